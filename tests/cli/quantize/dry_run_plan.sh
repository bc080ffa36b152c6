# --dry-run prints llama-quantize's per-tensor plan and sizes, writes nothing.
G=$(cd ../../.. && pwd)/shared/golden/quant
zstd -qdc "$G/model-f32.gguf.zst" > "$TMP/m.gguf"
"$CKPT" quantize "$TMP/m.gguf" Q4_K_M --dry-run | grep -E "attn_v|output|token_embd|ffn_down|size ="
ls "$TMP"
