#!/usr/bin/env bash
# bench/compare_convert.sh BUILD_DIR
#
# Hugging Face directory → GGUF: `ckpt convert` against `cp` of the same
# weights and (when CONVERT_HF is set) llama.cpp's convert_hf_to_gguf.py, page
# cache warm (hyperfine). The model is a ~1 GB bf16 Llama-shaped folder made by
# tests/fixtures/gen_hf_models.py --bench (8 layers, 2048 wide, FF 5632, 16/4
# heads, 32000 vocab). ckpt's and the reference's outputs are compared byte for
# byte before timing.
#
# The reference converter is not part of ckpt: point CONVERT_HF at a command
# taking MODEL_DIR OUTTYPE OUTFILE (a wrapper around convert_hf_to_gguf.py).
#
# Environment: CONVERT_HF (optional), TYPES (default "bf16 f16 Q4_K_M"),
# RUNS (default 3), CKPT_CONVERT_BENCH_DIR (default /tmp/ckpt-convert-bench).
set -euo pipefail
BUILD=${1:?usage: $0 BUILD_DIR}
CKPT=$(realpath "$BUILD/ckpt")
DIR=${CKPT_CONVERT_BENCH_DIR:-/tmp/ckpt-convert-bench}
MODEL=$DIR/llama-1g
HERE=$(cd "$(dirname "$0")" && pwd)
if [[ ! -f $MODEL/model.safetensors ]]; then
  /usr/bin/python3 "$HERE/../tests/fixtures/gen_hf_models.py" --bench "$MODEL"
fi
echo "input: $MODEL/model.safetensors ($(stat -c %s "$MODEL/model.safetensors") bytes), $(nproc) cores"
hyperfine -N --warmup 1 --runs "${RUNS:-3}" \
  "cp $MODEL/model.safetensors $DIR/cp.safetensors" \
  "sh -c 'cp $MODEL/model.safetensors $DIR/cp.safetensors && sync $DIR/cp.safetensors'" 2>&1 |
  grep -E "Time|±|Benchmark"
for t in ${TYPES:-bf16 f16 Q4_K_M}; do
  echo "== $t"
  cmds=("$CKPT convert -q $MODEL $DIR/ckpt-$t.gguf --dtype $t")
  if [[ -n ${CONVERT_HF:-} && $t == [a-z]* ]]; then
    $CONVERT_HF "$MODEL" "$t" "$DIR/ref-$t.gguf" >/dev/null 2>&1
    $CKPT convert -q "$MODEL" "$DIR/ckpt-$t.gguf" --dtype "$t"
    if cmp -s "$DIR/ckpt-$t.gguf" "$DIR/ref-$t.gguf"; then echo "identical output"; else echo "OUTPUTS DIFFER"; fi
    cmds+=("$CONVERT_HF $MODEL $t $DIR/ref-$t.gguf")
  fi
  hyperfine -N --warmup 1 --runs "${RUNS:-3}" "${cmds[@]}" 2>&1 | grep -E "Time|±|faster|Benchmark"
  /usr/bin/time -f "ckpt peak RSS %M KB" "$CKPT" convert -q "$MODEL" "$DIR/ckpt-$t.gguf" --dtype "$t"
done
