G=gguf/golden/tensors.gguf
$CKPT edit $G "$TMP/a.gguf" --remove general.name --set general.name=str:x; echo "exit $?"
$CKPT edit $G "$TMP/a.gguf" --set general.name=str:x --set general.name=str:y; echo "exit $?"
$CKPT edit $G "$TMP/a.gguf" --rename-tensor f32.1d=x --rename-tensor f32.1d=y; echo "exit $?"
$CKPT edit $G "$TMP/a.gguf" --drop-tensor f32.1d --rename-tensor f32.1d=x; echo "exit $?"
test -e "$TMP/a.gguf" && echo "output written"
true
