head -c 300 gguf/hash/small.gguf > "$TMP/t.gguf"
$CKPT hash "$TMP/t.gguf"
