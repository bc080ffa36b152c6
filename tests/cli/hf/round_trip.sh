# HF (f16) → GGUF → HF → GGUF: the second GGUF is the first, byte for byte.
cp -r hf/tiny-mistral "$TMP/tiny-mistral" && chmod -R u+w "$TMP/tiny-mistral"
$CKPT convert -q "$TMP/tiny-mistral" "$TMP/a.gguf" --dtype f16 || exit 9
mkdir "$TMP/back"
$CKPT convert -q "$TMP/a.gguf" "$TMP/back/tiny-mistral" --dtype f16 || exit 8
ls "$TMP/back/tiny-mistral"
$CKPT convert -q "$TMP/back/tiny-mistral" "$TMP/b.gguf" --dtype f16 || exit 7
cmp "$TMP/a.gguf" "$TMP/b.gguf" && echo identical
