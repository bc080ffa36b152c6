$CKPT hash gguf/hash/small.all.manifest
