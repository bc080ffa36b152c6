$CKPT hash no/such.gguf
