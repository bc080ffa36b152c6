# --tensor-type and --tensor-type-file: first matching pattern wins (patterns lowercased).
printf 'blk\\.0\\.attn_v=q8_0\n  OUTPUT=q5_K\n' > "$TMP/types.txt"
"$CKPT" quantize quant/review/tiny-f32.gguf Q4_K_M --dry-run --tensor-type 'attn_q=q6_k' \
  --tensor-type-file "$TMP/types.txt" | grep -E "attn_v|attn_q|^\[   1/"
