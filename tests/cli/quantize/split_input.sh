# One file of a split set is refused (nothing would hold the other files' tensors).
"$CKPT" split -q quant/review/tiny-f32.gguf "$TMP/parts" --max-tensors 6 >/dev/null || exit 9
"$CKPT" quantize "$TMP/parts-00001-of-00002.gguf" "$TMP/out.gguf" Q8_0
rc=$?; ls "$TMP"; exit $rc
