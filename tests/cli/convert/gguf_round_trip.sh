# Safetensors → GGUF → Safetensors gives the same bytes; shapes become ggml ne.
$CKPT convert -q safetensors/y_f32_with_metadata.safetensors "$TMP/a.gguf" || exit 9
$CKPT convert -q "$TMP/a.gguf" "$TMP/b.safetensors" || exit 8
cmp safetensors/y_f32_with_metadata.safetensors "$TMP/b.safetensors" && echo identical
$CKPT inspect --json "$TMP/a.gguf" | grep -o '"shape":\[[0-9,]*\],"offset":[0-9]*,"nbytes":[0-9]*,"ne":\[[0-9,]*\]' | head -3
# dtypes GGUF has no id for are refused by name
$CKPT convert -q safetensors/y_mixed_dtypes.safetensors "$TMP/m.gguf" 2>&1 | sed "s|$TMP/||"
