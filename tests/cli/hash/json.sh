$CKPT hash --json gguf/hash/small.gguf
