set -e
$CKPT convert safetensors/y_mixed_dtypes.safetensors "$TMP/a.safetensors"
$CKPT convert "$TMP/a.safetensors" "$TMP/b.safetensors"
cmp "$TMP/a.safetensors" "$TMP/b.safetensors"
$CKPT inspect --json "$TMP/b.safetensors" | sed "s|$TMP|TMP|g"
