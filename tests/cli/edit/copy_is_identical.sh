# A no-op edit of files written by llama.cpp's converter (gguf-py) gives the same bytes.
REF=../../../shared/golden/convert/ref
for t in f16 bf16 q8_0; do
  $CKPT edit -q $REF/tiny-llama.$t.gguf "$TMP/$t.gguf" || exit 9
  cmp "$TMP/$t.gguf" $REF/tiny-llama.$t.gguf && echo "$t identical"
done
