# GGUF files ggml refuses are invalid (exit 1) with the rule; strict adds hazards.
$CKPT validate gguf/golden/tensors.gguf gguf/golden/nested_arrays.gguf gguf/golden/bigendian.gguf
echo "exit $?"
$CKPT validate --strict gguf/golden/edge_cases.gguf
echo "exit $?"
$CKPT validate --json gguf/golden/nested_arrays.gguf | grep -o '"format":"gguf"'
