$CKPT validate safetensors/y_empty.safetensors safetensors/n_safetensors-offsets-contiguous.safetensors safetensors/n_safetensors-data-coverage.safetensors
