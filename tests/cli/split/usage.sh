$CKPT split gguf/split/five.gguf "$TMP/s" --max-size 2Q
