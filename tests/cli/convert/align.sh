$CKPT convert --align 4096 safetensors/y_mixed_dtypes.safetensors "$TMP/a.safetensors" && $CKPT inspect --json "$TMP/a.safetensors" | grep -o "\"data_offset\":[0-9]*"
$CKPT convert --align 1099511627776 safetensors/y_empty.safetensors "$TMP/b.safetensors"
