# The output does not depend on the thread count; the default name is ggml-model-TYPE.gguf.
G=$(cd ../../.. && pwd)/shared/golden/quant
zstd -qdc "$G/model-f32.gguf.zst" > "$TMP/m.gguf"
"$CKPT" quantize -q "$TMP/m.gguf" IQ4_NL --threads 1 || exit 9
mv "$TMP/ggml-model-IQ4_NL.gguf" "$TMP/one.gguf"
"$CKPT" quantize -q "$TMP/m.gguf" "$TMP/three.gguf" iq4_nl --threads 3 || exit 9
cmp "$TMP/one.gguf" "$TMP/three.gguf" && echo identical
