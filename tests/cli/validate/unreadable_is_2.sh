$CKPT validate safetensors/n_safetensors-size-mismatch.safetensors no/such/file
