$CKPT convert --max-shard-size 5XB safetensors/y_empty.safetensors "$TMP/d"; code=$?
test ! -e "$TMP/d" && exit $code
