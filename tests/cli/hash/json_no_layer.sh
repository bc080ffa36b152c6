$CKPT hash --json --no-layer gguf/hash/five.gguf
