# Q2_K_S needs an importance matrix, as in llama-quantize: exit 2, nothing written.
G=$(cd ../../.. && pwd)/shared/golden/quant
zstd -qdc "$G/model-f32.gguf.zst" > "$TMP/m.gguf"
"$CKPT" quantize "$TMP/m.gguf" "$TMP/out.gguf" Q2_K_S
rc=$?
ls "$TMP"
exit $rc
