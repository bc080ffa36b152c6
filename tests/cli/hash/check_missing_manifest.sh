$CKPT hash --check no/such.manifest gguf/hash/small.gguf
