# Byte for byte what llama-gguf-hash printed (gguf/hash/small.check-ok.llama-gguf-hash.txt is its recorded output).
cd gguf/hash || exit 98
$CKPT hash --check small.all.manifest small.gguf > "$TMP/out"; rc=$?
cmp "$TMP/out" small.check-ok.llama-gguf-hash.txt >&2 || { diff "$TMP/out" small.check-ok.llama-gguf-hash.txt >&2; exit 99; }
cat "$TMP/out"; exit $rc
