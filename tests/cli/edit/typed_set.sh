# bool:false stays false (gguf-py's set_metadata turns "false" into True);
# existing keys keep their place, new ones are appended; data is untouched.
$CKPT edit gguf/golden/tensors.gguf "$TMP/e.gguf" --set general.name=str:Foo --set llama.block_count=7 \
  --set tokenizer.ggml.add_bos_token=bool:false --set x.list=arr[i32]:[1,-2] --remove general.architecture || exit 9
$CKPT inspect --json "$TMP/e.gguf" | grep -o '"metadata":{[^}]*}'
$CKPT hash --no-layer gguf/golden/tensors.gguf | cut -c1-26
$CKPT hash --no-layer "$TMP/e.gguf" | cut -c1-26
