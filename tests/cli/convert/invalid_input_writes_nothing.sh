$CKPT convert safetensors/n_safetensors-json-syntax.safetensors "$TMP/x.safetensors"; code=$?; ls -A "$TMP" | grep -v "^.stderr$"; exit $code
