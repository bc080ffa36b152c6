printf "\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01" > "$TMP/model.safetensors"
$CKPT inspect "$TMP/model.safetensors"
