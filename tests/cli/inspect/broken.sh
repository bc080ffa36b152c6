$CKPT inspect safetensors/n_safetensors-size-mismatch.safetensors
