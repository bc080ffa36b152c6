# convert decodes ggml block types with --dtype (and asks for it without).
G=$(cd ../../.. && pwd)/shared/golden/quant
zstd -qdc "$G/ref/Q4_K_M.gguf.zst" > "$TMP/q.gguf"
"$CKPT" convert -q "$TMP/q.gguf" "$TMP/x.safetensors" 2>&1 | sed "s|$TMP/||"; echo "keep: ${PIPESTATUS[0]}"
"$CKPT" convert -q --dtype f32 "$TMP/q.gguf" "$TMP/x.safetensors"; echo "f32: $?"
"$CKPT" inspect "$TMP/x.safetensors" | grep -E "blk.0.attn_v.weight|dtypes"
