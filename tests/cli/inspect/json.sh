$CKPT inspect --json safetensors/y_f32_with_metadata.safetensors
