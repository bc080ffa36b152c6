$CKPT hash --check gguf/hash/small.sha-only.manifest gguf/hash/small.gguf
