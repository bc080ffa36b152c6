$CKPT convert gguf/golden/tensors.gguf "$TMP/x.safetensors"; code=$?
test -e "$TMP/x.safetensors" && echo "output written"
exit $code
