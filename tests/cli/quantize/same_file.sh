# Refuses to overwrite its own input.
cp gguf/golden/align64.gguf "$TMP/m.gguf"
"$CKPT" quantize "$TMP/m.gguf" "$TMP/m.gguf" Q8_0
