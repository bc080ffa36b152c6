$CKPT inspect --json gguf/golden/scalars.gguf
