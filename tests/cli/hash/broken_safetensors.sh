$CKPT hash safetensors/n_safetensors-size-mismatch.safetensors
