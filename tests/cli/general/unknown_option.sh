$CKPT inspect --bogus safetensors/y_empty.safetensors
