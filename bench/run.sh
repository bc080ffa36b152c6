#!/usr/bin/env bash
# bench/run.sh BUILD_DIR
#
# 1. Runs ckpt_bench (header parse/open, writer header, dtype conversion).
# 2. Times `ckpt convert` against `cp` on a generated ~1 GiB checkpoint:
#      cp IN OUT               page cache only (returns before the data is on disk)
#      cp IN OUT && sync       data on disk, comparable to ckpt, which fsyncs
#      ckpt convert IN OUT     canonical rewrite, same dtype
#      ckpt convert IN OUT --dtype f16 / bf16
#    for a BF16 and an F32 input, with hyperfine when installed
#    (apt-get install hyperfine), else with /usr/bin/time; then prints the
#    ratios and each command's peak RSS.
# Scratch files go to BUILD_DIR/bench-scratch/ and are removed at the end.
#
# The GGUF benchmarks of ckpt_bench (bench/gguf_bench.cc) read the GGUF named
# by CKPT_BENCH_GGUF; when it is unset or missing, a 256k-token vocabulary file
# is generated into the scratch directory with bench/make_gguf_vocab.py
# (/usr/bin/python3 with numpy; gguf-py's writer when importable, else the
# plain writer, same bytes). bench/compare_gguf.sh compares against gguf-py
# and ggml.
#
# Environment: CKPT_BENCH_MIB (default 1024) input size; CKPT_BENCH_RUNS
# (default 5) timed runs per command; CKPT_BENCH_ARGS extra ckpt_bench flags
# (e.g. --benchmark_filter=Parse); CKPT_BENCH_GGUF the vocabulary GGUF.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench=$build/bench/ckpt_bench
ckpt=$build/ckpt
for b in "$bench" "$ckpt"; do
  if [[ ! -x $b ]]; then
    echo "bench: $b not built (cmake --build $1; benchmarks need CKPT_BENCH=ON and no sanitizers)" >&2
    exit 2
  fi
done
mib=${CKPT_BENCH_MIB:-1024}
runs=${CKPT_BENCH_RUNS:-5}
scratch=$build/bench-scratch
rm -rf "$scratch"
mkdir -p "$scratch"
trap 'rm -rf "$scratch"' EXIT

echo "== machine"
echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel: $(uname -sr)"
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "scratch filesystem: $(df -hT "$scratch" | awk 'NR == 2 {print $2 " on " $1 ", " $5 " used"}')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

gguf=${CKPT_BENCH_GGUF:-}
if [[ -z $gguf || ! -f $gguf ]]; then
  gguf=$scratch/vocab.gguf
  echo "== generating the 256k-token vocabulary GGUF ($gguf)"
  /usr/bin/python3 "$src/make_gguf_vocab.py" "$gguf" 2>/dev/null ||
    /usr/bin/python3 "$src/make_gguf_vocab.py" "$gguf" --writer plain
  echo
fi
export CKPT_BENCH_GGUF=$gguf

echo "== ckpt_bench"
# shellcheck disable=SC2086  # CKPT_BENCH_ARGS is a list of flags
TMPDIR=$scratch "$bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  ${CKPT_BENCH_ARGS:-}
echo

echo "== convert vs cp (${mib} MiB inputs, ${runs} runs each, scratch $scratch)"
python3 "$src/make_checkpoint.py" "$scratch/in-bf16.safetensors" --mib "$mib" --dtype BF16
python3 "$src/make_checkpoint.py" "$scratch/in-f32.safetensors" --mib "$mib" --dtype F32
"$ckpt" validate "$scratch/in-bf16.safetensors"
"$ckpt" validate "$scratch/in-f32.safetensors"
sync
out=$scratch/out.safetensors

# compare LABEL IN DTYPE...: cp, cp && sync, ckpt convert (keep), ckpt convert --dtype D...
compare() {
  local label=$1 in=$2
  shift 2
  local names=("cp" "cp && sync" "ckpt convert")
  local cmds=("cp $in $out" "cp $in $out && sync" "$ckpt convert -q $in $out")
  local d
  for d in "$@"; do
    names+=("ckpt convert --dtype $d")
    cmds+=("$ckpt convert -q --dtype $d $in $out")
  done
  echo
  echo "-- $label input: $in ($(du -h "$in" | cut -f1))"
  if command -v hyperfine >/dev/null; then
    local args=() i
    for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    # Before every run: remove the output and flush dirty pages, so no run
    # pays for the previous one's writeback.
    hyperfine --warmup 1 --runs "$runs" --prepare "rm -f $out; sync" \
      --export-json "$scratch/$label.json" "${args[@]}"
    python3 - "$scratch/$label.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
cp, cps = r["cp"]["mean"], r["cp && sync"]["mean"]
print("%-30s %9s %9s %14s %14s" % ("command", "mean s", "min s", "/ cp", "/ (cp && sync)"))
for name, x in r.items():
    print("%-30s %9.3f %9.3f %13.2fx %13.2fx" % (name, x["mean"], x["min"], x["mean"] / cp, x["mean"] / cps))
EOF
  else
    echo "(hyperfine not installed: /usr/bin/time, $runs runs each after one warm-up)"
    local i k
    for i in "${!cmds[@]}"; do
      rm -f "$out"; sync; bash -c "${cmds[$i]}"
      for ((k = 0; k < runs; k++)); do
        rm -f "$out"; sync
        /usr/bin/time -f "${names[$i]}: %e s elapsed, %U s user, %S s system" bash -c "${cmds[$i]}"
      done
    done
  fi
  echo "peak RSS (one run each, /usr/bin/time):"
  for i in "${!cmds[@]}"; do
    rm -f "$out"; sync
    /usr/bin/time -f "  ${names[$i]}: %M KiB" bash -c "${cmds[$i]}"
  done
  "$ckpt" validate "$out" >/dev/null
}

compare bf16 "$scratch/in-bf16.safetensors" f16
compare f32 "$scratch/in-f32.safetensors" bf16 f16
rm -f "$out"
