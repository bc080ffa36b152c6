# Values checked against xxhsum -H64 of each tensor's byte range.
$CKPT hash safetensors/y_mixed_dtypes.safetensors
