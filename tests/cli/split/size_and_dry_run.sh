$CKPT split gguf/split/five.gguf "$TMP/s" --max-size 100 --dry-run | sed "s|$TMP/||"
ls "$TMP"
