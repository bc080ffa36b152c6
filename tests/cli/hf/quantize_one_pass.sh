# --dtype Q4_K_M in one pass = the bf16 conversion then ckpt quantize, whatever the thread count.
cp -r hf/tiny-llama-sharded "$TMP/m" && chmod -R u+w "$TMP/m"
$CKPT convert -q "$TMP/m" "$TMP/one.gguf" --dtype Q4_K_M --threads 1 || exit 9
$CKPT convert -q "$TMP/m" "$TMP/two.gguf" --dtype Q4_K_M --threads 2 || exit 8
$CKPT convert -q "$TMP/m" "$TMP/mid.gguf" --dtype bf16 || exit 7
$CKPT quantize -q "$TMP/mid.gguf" "$TMP/q.gguf" Q4_K_M || exit 6
cmp "$TMP/one.gguf" "$TMP/q.gguf" && cmp "$TMP/two.gguf" "$TMP/q.gguf" && echo identical
