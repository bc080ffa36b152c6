# Same tensors, other container: the same per-tensor and whole-model hashes.
set -e
ST=../../../shared/golden/convert/tiny-llama/model.safetensors
$CKPT convert -q "$ST" "$TMP/m.gguf"
strip() { sed "s|^\(xxh64 *[0-9a-f]*  \)[^:]*|\1|"; }
$CKPT hash "$ST" | strip > "$TMP/a"
$CKPT hash "$TMP/m.gguf" | strip > "$TMP/b"
diff "$TMP/a" "$TMP/b"
wc -l < "$TMP/a"
tail -n 1 "$TMP/a" | sed "s/ *$//"
