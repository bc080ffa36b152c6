# A quantized input needs --allow-requantize; with it the result is valid.
G=$(cd ../../.. && pwd)/shared/golden/quant
zstd -qdc "$G/model-f32.gguf.zst" > "$TMP/m.gguf"
"$CKPT" quantize -q "$TMP/m.gguf" "$TMP/q8.gguf" Q8_0 || exit 9
"$CKPT" quantize -q "$TMP/q8.gguf" "$TMP/q4.gguf" Q4_0 2>/dev/null; echo "without: $?"
"$CKPT" quantize -q "$TMP/q8.gguf" "$TMP/q4.gguf" Q4_0 --allow-requantize; echo "with: $?"
"$CKPT" validate "$TMP/q4.gguf" | sed "s|$TMP/||"
