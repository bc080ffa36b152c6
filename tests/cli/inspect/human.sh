$CKPT inspect safetensors/y_mixed_dtypes.safetensors
