$CKPT edit gguf/golden/tensors.gguf "$TMP/a.gguf" --set tokenizer.ggml.add_bos_token=bool:nope
$CKPT edit gguf/golden/tensors.gguf "$TMP/a.gguf" --set x=u8:256
$CKPT edit gguf/golden/tensors.gguf "$TMP/a.gguf" --set new.key=5
$CKPT edit gguf/golden/tensors.gguf "$TMP/a.gguf" --rename-tensor nope=x
code=$?; test -e "$TMP/a.gguf" && echo "output written"; exit $code
