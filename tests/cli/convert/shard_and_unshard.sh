set -e
$CKPT convert --max-shard-size 20 safetensors/y_mixed_dtypes.safetensors "$TMP/d"
ls "$TMP/d"
$CKPT validate "$TMP/d" | sed "s|$TMP|TMP|g"
$CKPT convert "$TMP/d" "$TMP/one.safetensors"
# Shards carry {"format":"pt"} (as the Hub writes them); the tensors and
# their bytes come back unchanged.
$CKPT inspect --json "$TMP/one.safetensors" | sed "s|$TMP|TMP|g"
$CKPT convert safetensors/y_mixed_dtypes.safetensors "$TMP/ref.safetensors"
cmp <(tail -c 32 "$TMP/one.safetensors") <(tail -c 32 "$TMP/ref.safetensors")
