# big-endian → little → big gives back the same bytes; renames and drops.
$CKPT edit gguf/golden/bigendian.gguf "$TMP/le.gguf" --endian little || exit 9
$CKPT validate "$TMP/le.gguf" | sed "s|$TMP/||"
$CKPT edit "$TMP/le.gguf" "$TMP/be.gguf" --endian big || exit 8
cmp "$TMP/be.gguf" gguf/golden/bigendian.gguf && echo identical
$CKPT edit gguf/golden/tensors.gguf "$TMP/r.gguf" --rename-tensor f32.1d=renamed --drop-tensor q4_k.2d || exit 7
$CKPT inspect --json "$TMP/r.gguf" | grep -o '"name":"[^"]*"' | head -2 | tr '\n' ' '; echo
