$CKPT inspect gguf/golden/arrays.gguf
