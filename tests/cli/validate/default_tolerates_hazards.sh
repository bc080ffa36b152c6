$CKPT validate safetensors/i_duplicate_name.safetensors
