# A manifest written by ckpt hash verifies (names are PATH as given, so same cwd).
set -e
$CKPT hash safetensors/y_mixed_dtypes.safetensors > "$TMP/m"
$CKPT hash -c "$TMP/m" safetensors/y_mixed_dtypes.safetensors | sed "s|$TMP|TMP|g"
