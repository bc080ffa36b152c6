set -e
$CKPT convert --dtype f16 safetensors/y_f32_with_metadata.safetensors "$TMP/h.safetensors"
$CKPT convert --dtype F32 "$TMP/h.safetensors" "$TMP/f.safetensors"
cmp <(tail -c 16 "$TMP/f.safetensors") <(tail -c 16 safetensors/y_f32_with_metadata.safetensors)
$CKPT inspect --json "$TMP/h.safetensors" | sed "s|$TMP|TMP|g"
