$CKPT hash --check gguf/hash/unknown.manifest gguf/hash/small.gguf
