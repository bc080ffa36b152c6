: > "$TMP/empty"
$CKPT hash --check "$TMP/empty" gguf/hash/small.gguf
