: > "$TMP/empty.safetensors"
$CKPT validate "$TMP/empty.safetensors"
