$CKPT convert --dtype i8 safetensors/y_empty.safetensors "$TMP/x.safetensors"; code=$?
test ! -e "$TMP/x.safetensors" && exit $code
