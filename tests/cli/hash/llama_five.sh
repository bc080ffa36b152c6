# Byte for byte what llama-gguf-hash printed (gguf/hash/five.llama-gguf-hash.txt is its recorded output).
cd gguf/hash || exit 98
$CKPT hash five.gguf > "$TMP/out"; rc=$?
cmp "$TMP/out" five.llama-gguf-hash.txt >&2 || { diff "$TMP/out" five.llama-gguf-hash.txt >&2; exit 99; }
cat "$TMP/out"; exit $rc
