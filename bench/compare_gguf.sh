#!/usr/bin/env bash
# bench/compare_gguf.sh BUILD_DIR
#
# GGUF reading, side by side with the reference implementations, on a
# 256k-token vocabulary file (bench/make_gguf_vocab.py; page cache warm):
#
#   1. Whole commands (hyperfine when installed, else a repeated-timing loop):
#        ckpt inspect --json FILE          full metadata as JSON, arrays included
#        ckpt validate FILE                open + validate (reference_compatible)
#        gguf_dump.py --json FILE          gguf-py (GGUFReader), arrays elided
#        gguf_dump.py --json --json-array  gguf-py, arrays included (like ckpt)
#        $GGML_GGUF_ORACLE FILE            ggml's gguf_init_from_file, when given
#      gguf-py takes seconds per run, so it gets CKPT_COMPARE_PY_RUNS runs.
#   2. In-process: $GGML_GGUF_TIMER FILE RUNS, when given — a program that
#      times GgufFile::Open/Parse and gguf_init_from_file/_from_buffer on the
#      same file/bytes, interleaved (not part of ckpt; see docs/performance.md,
#      "GGUF", for how it is built). This is the number for the open-speed
#      target; process start-up and output dominate the command timings.
#   3. ckpt_bench's GGUF benchmarks on the same file.
#   4. Hash throughput on a ~1 GiB GGUF (bench/make_checkpoint.py + ckpt
#      convert): `xxhsum -H1` (XXH64, apt package xxhash) against `ckpt hash`
#      (when the build has it) and XXH64 over the mapped tensor data
#      in-process (BM_GgufXXH64).
#
# Environment:
#   CKPT_BENCH_GGUF       vocabulary GGUF (default /tmp/gguf-vocab.gguf; generated if missing)
#   GGUF_PY               gguf-py checkout (default /work/oracle/src/gguf-py-copy;
#                         the dir holding gguf-py/ or gguf-py itself)
#   GGML_GGUF_ORACLE      binary taking FILE that calls gguf_init_from_file (optional;
#                         /work/oracle/gguf-oracle/gguf-oracle forks twice per file)
#   GGML_GGUF_TIMER       in-process timer (optional), e.g.
#                         /work/oracle/bench-ggml/build/gguf-open-timer
#   CKPT_COMPARE_RUNS     runs per fast command and in-process case (default 20)
#   CKPT_COMPARE_PY_RUNS  runs per gguf-py command (default 3)
#   CKPT_HASH_MIB         size of the hash input (default 1024; 0 skips step 4)
# Scratch files go to BUILD_DIR/bench-scratch-gguf/ and are removed at the end.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ckpt=$build/ckpt
bench=$build/bench/ckpt_bench
for b in "$ckpt" "$bench"; do
  if [[ ! -x $b ]]; then
    echo "compare_gguf: $b not built (Release build with CKPT_BENCH=ON)" >&2
    exit 2
  fi
done
runs=${CKPT_COMPARE_RUNS:-20}
py_runs=${CKPT_COMPARE_PY_RUNS:-3}
hash_mib=${CKPT_HASH_MIB:-1024}
python=/usr/bin/python3
scratch=$build/bench-scratch-gguf
rm -rf "$scratch"
mkdir -p "$scratch"
trap 'rm -rf "$scratch"' EXIT

gguf=${CKPT_BENCH_GGUF:-/tmp/gguf-vocab.gguf}
if [[ ! -f $gguf ]]; then
  echo "== generating $gguf"
  "$python" "$src/make_gguf_vocab.py" "$gguf" 2>/dev/null || "$python" "$src/make_gguf_vocab.py" "$gguf" --writer plain
fi
export CKPT_BENCH_GGUF=$gguf

gguf_py=${GGUF_PY:-/work/oracle/src/gguf-py-copy}
[[ -d $gguf_py/gguf-py ]] && gguf_py=$gguf_py/gguf-py
dump=$gguf_py/gguf/scripts/gguf_dump.py
[[ -f $dump ]] || dump=""

echo "== machine"
echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel: $(uname -sr)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "file: $gguf ($(stat -c %s "$gguf") bytes, sha256 $(sha256sum "$gguf" | cut -c1-16)...)"
echo

# time_commands RUNS NAME CMD [NAME CMD...]: hyperfine, or a loop of /usr/bin/time.
time_commands() {
  local n=$1
  shift
  if command -v hyperfine >/dev/null; then
    local args=()
    while [[ $# -gt 0 ]]; do
      args+=(-n "$1" "$2")
      shift 2
    done
    hyperfine -N --warmup 1 --runs "$n" --export-json "$scratch/h.json" "${args[@]}" >/dev/null
    "$python" - "$scratch/h.json" <<'EOF'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
print("%-34s %10s %10s %10s %10s %10s" % ("command", "median s", "mean s", "min s", "user s", "system s"))
for x in r:
    print("%-34s %10.4f %10.4f %10.4f %10.4f %10.4f" % (x["command"], x["median"], x["mean"], x["min"],
                                                       x["user"], x["system"]))
EOF
  else
    echo "(hyperfine not installed: median of $n runs of date-stamped loops)"
    while [[ $# -gt 0 ]]; do
      local name=$1 cmd=$2 k
      shift 2
      bash -c "$cmd" >/dev/null 2>&1 || true
      local ts=()
      for ((k = 0; k < n; k++)); do
        local t0 t1
        t0=$(date +%s%N)
        bash -c "$cmd" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        ts+=($(((t1 - t0) / 1000)))
      done
      printf '%-34s median %s s\n' "$name" \
        "$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f", m/1e6}')"
    done
  fi
}

echo "== 1. commands (stdout to /dev/null), $runs runs each"
cmds=("ckpt inspect --json" "$ckpt inspect --json $gguf"
      "ckpt validate" "$ckpt validate $gguf")
if [[ -n ${GGML_GGUF_ORACLE:-} ]]; then
  cmds+=("ggml oracle (2 forks)" "$GGML_GGUF_ORACLE $gguf")
fi
time_commands "$runs" "${cmds[@]}"
if [[ -n $dump ]]; then
  echo "-- gguf-py ($dump), $py_runs runs each"
  time_commands "$py_runs" "gguf_dump --json" "$python $dump --json $gguf" \
    "gguf_dump --json --json-array" "$python $dump --json --json-array $gguf"
else
  echo "(gguf_dump.py not found under ${GGUF_PY:-/work/oracle/src/gguf-py-copy}: skipped)"
fi
echo

echo "== 2. in-process open: ckpt vs ggml"
if [[ -n ${GGML_GGUF_TIMER:-} && -x ${GGML_GGUF_TIMER:-} ]]; then
  "$GGML_GGUF_TIMER" "$gguf" "$runs" 2>/dev/null
else
  echo "(GGML_GGUF_TIMER not set: skipped)"
fi
echo

echo "== 3. ckpt_bench GGUF benchmarks (median of 5)"
"$bench" --benchmark_filter='BM_Gguf' --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  2>&1 | grep -E '^(BM_|Benchmark|-)' | grep -v -E '_(mean|stddev|cv) ' || true
echo

if [[ $hash_mib -gt 0 ]]; then
  echo "== 4. hash throughput, ${hash_mib} MiB GGUF"
  "$python" "$src/make_checkpoint.py" "$scratch/h.safetensors" --mib "$hash_mib" --dtype F32 >/dev/null
  "$ckpt" convert -q "$scratch/h.safetensors" "$scratch/h.gguf"
  rm -f "$scratch/h.safetensors"
  size=$(stat -c %s "$scratch/h.gguf")
  cat "$scratch/h.gguf" >/dev/null  # warm the page cache
  echo "file: $scratch/h.gguf ($size bytes)"
  hash_cmds=("xxhsum -H1" "xxhsum -H1 $scratch/h.gguf")
  # `ckpt hash` (per-tensor + whole-model XXH64, as llama-gguf-hash) when this
  # build has it; --no-layer is the whole-model hash alone, like xxhsum.
  if "$ckpt" hash --help >/dev/null 2>&1; then
    hash_cmds+=("ckpt hash" "$ckpt hash -q $scratch/h.gguf"
                "ckpt hash --no-layer" "$ckpt hash -q --no-layer $scratch/h.gguf")
  fi
  if command -v xxhsum >/dev/null; then
    time_commands 5 "${hash_cmds[@]}"
    if command -v hyperfine >/dev/null; then
      "$python" - "$scratch/h.json" "$size" <<'EOF'
import json, sys
size = int(sys.argv[2])
for x in json.load(open(sys.argv[1]))["results"]:
    print("%-34s %.2f GiB/s (median, whole file)" % (x["command"], size / x["median"] / 2**30))
EOF
    fi
  else
    echo "(xxhsum not installed: apt-get install xxhash)"
  fi
  echo "-- in-process XXH64 over the mapped tensor data (BM_GgufXXH64, median of 5)"
  CKPT_BENCH_HASH_GGUF=$scratch/h.gguf "$bench" --benchmark_filter='BM_GgufXXH64' --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true 2>&1 | grep -E '^BM_.*_median' || true
fi
