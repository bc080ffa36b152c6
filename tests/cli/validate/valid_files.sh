$CKPT validate safetensors/y_empty.safetensors safetensors/y_mixed_dtypes.safetensors
