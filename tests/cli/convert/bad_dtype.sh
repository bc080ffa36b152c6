$CKPT convert --dtype i8 safetensors/y_empty.safetensors "$TMP/x.safetensors"; test ! -e "$TMP/x.safetensors"
