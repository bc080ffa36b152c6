printf "version https://git-lfs.github.com/spec/v1\n" > "$TMP/m.safetensors"
$CKPT validate --json "$TMP/m.safetensors" | sed "s|$TMP|TMP|g"
