$CKPT convert safetensors/y_empty.safetensors "$TMP"
