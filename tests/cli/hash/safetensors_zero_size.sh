# A 0-byte tensor hashes as empty input (ef46db3751d8e999), as with 0 tensors.
$CKPT hash safetensors/y_scalar_and_zero_size.safetensors
$CKPT hash safetensors/y_empty.safetensors
