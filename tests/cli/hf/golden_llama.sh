# A Hugging Face Llama folder → the GGUF convert_hf_to_gguf.py writes, for each outtype
# (../shared/golden/convert: general.name comes from the folder name, so copy it as tiny-llama).
cp -r ../../../shared/golden/convert/tiny-llama "$TMP/tiny-llama" && chmod -R u+w "$TMP/tiny-llama"
for t in f16 bf16 q8_0; do
  $CKPT convert -q "$TMP/tiny-llama" "$TMP/out.$t.gguf" --dtype $t || exit 9
  cmp "$TMP/out.$t.gguf" ../../../shared/golden/convert/ref/tiny-llama.$t.gguf && echo "$t identical"
done
