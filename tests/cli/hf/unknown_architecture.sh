# An architecture outside the table is refused before anything is written.
cp -r hf/tiny-llama-tied "$TMP/m" && chmod -R u+w "$TMP/m"
sed -i 's/LlamaForCausalLM/FalconForCausalLM/' "$TMP/m/config.json"
$CKPT convert "$TMP/m" "$TMP/out.gguf" 2>&1 | sed "s|$TMP/||g"
echo "exit ${PIPESTATUS[0]}"
test -e "$TMP/out.gguf" || echo "nothing written"
