# IQ3_M, and IQ3_XS with the golden imatrix, on the golden model: the sha256
# of llama-quantize's output for the same command (threads 1 and 3).
G=$(cd ../../.. && pwd)/shared/golden/quant
zstd -qdc "$G/model-f32.gguf.zst" > "$TMP/model-f32.gguf"
cp "$G/imatrix.gguf" "$TMP/imatrix.gguf"
cd "$TMP"
"$CKPT" quantize -q model-f32.gguf m.gguf IQ3_M --threads 1 || exit 9
echo "IQ3_M $(sha256sum m.gguf | cut -c1-64)"
"$CKPT" quantize -q model-f32.gguf xs.gguf IQ3_XS --imatrix imatrix.gguf --threads 3 || exit 9
echo "IQ3_XS-imatrix $(sha256sum xs.gguf | cut -c1-64)"
