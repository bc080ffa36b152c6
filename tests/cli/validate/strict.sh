$CKPT validate --strict safetensors/i_duplicate_name.safetensors safetensors/i_nul_in_name.safetensors
