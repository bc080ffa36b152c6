# Byte for byte what llama-gguf-hash printed (gguf/hash/five.check-missing.llama-gguf-hash.txt is its recorded output).
cd gguf/hash || exit 98
$CKPT hash --check small.all.manifest five.gguf > "$TMP/out"; rc=$?
cmp "$TMP/out" five.check-missing.llama-gguf-hash.txt >&2 || { diff "$TMP/out" five.check-missing.llama-gguf-hash.txt >&2; exit 99; }
cat "$TMP/out"; exit $rc
