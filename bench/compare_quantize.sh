#!/usr/bin/env bash
# bench/compare_quantize.sh BUILD_DIR
#
# Whole-file quantization, `ckpt quantize` against llama.cpp's
# `llama-quantize`, same input, same type, same thread count, page cache warm
# (hyperfine). The input is a Llama-shaped F16 GGUF made by
# BUILD_DIR/make_llama_gguf (default: 8 layers, 2048 wide, FF 5632, 32/8
# heads, 32000 vocab, ~0.97 GB). Each pair of outputs is compared byte for
# byte (cmp) before timing.
#
# llama-quantize is not part of ckpt: point LLAMA_QUANTIZE at a binary built
# from llama.cpp (see docs/performance.md).
#
# Environment: LLAMA_QUANTIZE (required), TYPES (default "Q4_K_M Q8_0 Q6_K
# IQ4_XS Q4_0"), THREADS (default nproc), RUNS (default 3),
# CKPT_QUANT_BENCH_DIR (scratch, default /tmp/ckpt-quant-bench), MODEL_ARGS
# (make_llama_gguf arguments after OUT, default "8 2048 5632 32 8 32000 f16").
set -euo pipefail
BUILD=${1:?usage: $0 BUILD_DIR}
CKPT=$(realpath "$BUILD/ckpt")
LQ=${LLAMA_QUANTIZE:?set LLAMA_QUANTIZE to a llama-quantize binary}
DIR=${CKPT_QUANT_BENCH_DIR:-/tmp/ckpt-quant-bench}
THREADS=${THREADS:-$(nproc)}
TYPES=${TYPES:-"Q4_K_M Q8_0 Q6_K IQ4_XS Q4_0"}
mkdir -p "$DIR"
IN=$DIR/model.gguf
if [[ ! -f $IN ]]; then
  # shellcheck disable=SC2086
  "$BUILD/make_llama_gguf" "$IN" ${MODEL_ARGS:-8 2048 5632 32 8 32000 f16}
fi
echo "input: $IN ($(stat -c %s "$IN") bytes), threads $THREADS"
for t in $TYPES; do
  echo "== $t"
  "$CKPT" quantize -q "$IN" "$DIR/ckpt-$t.gguf" "$t" --threads "$THREADS"
  "$LQ" "$IN" "$DIR/ref-$t.gguf" "$t" "$THREADS" >/dev/null 2>&1
  if cmp -s "$DIR/ckpt-$t.gguf" "$DIR/ref-$t.gguf"; then echo "identical output"; else echo "OUTPUTS DIFFER"; fi
  hyperfine -N --warmup 1 --runs "${RUNS:-3}" \
    "$CKPT quantize -q $IN $DIR/ckpt-$t.gguf $t --threads $THREADS" \
    "$LQ $IN $DIR/ref-$t.gguf $t $THREADS" 2>&1 | grep -E "Time|±|faster|Benchmark"
  /usr/bin/time -f "ckpt peak RSS %M KB" "$CKPT" quantize -q "$IN" "$DIR/ckpt-$t.gguf" "$t" --threads "$THREADS"
  /usr/bin/time -f "llama-quantize peak RSS %M KB" "$LQ" "$IN" "$DIR/ref-$t.gguf" "$t" "$THREADS" >/dev/null 2>/tmp/lq.err || true
  tail -1 /tmp/lq.err
  rm -f "$DIR/ckpt-$t.gguf" "$DIR/ref-$t.gguf"
done
