$CKPT convert pytorch/noncontiguous.pt $TMP/out.safetensors && $CKPT hash $TMP/out.safetensors | sed "s#$TMP/##" && $CKPT hash pytorch/noncontiguous.pt
