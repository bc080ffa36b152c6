$CKPT validate --json safetensors/y_f32_with_metadata.safetensors safetensors/n_safetensors-json-dtype.safetensors
