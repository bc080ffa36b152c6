#!/usr/bin/env bash
# bench/compare_scan.sh BUILD_DIR
#
# `ckpt scan` against picklescan on the inputs of bench/make_scan_inputs.py
# (page cache warm, hyperfine). picklescan is not part of ckpt: point
# PICKLESCAN_SRC at a checkout's src/ directory (default
# /work/oracle/picklescan/src); it runs with /usr/bin/python3.
set -euo pipefail
BUILD=${1:-build}
CKPT=$(realpath "$BUILD/ckpt")
DIR=${CKPT_SCAN_BENCH_DIR:-/tmp/ckpt-scan-bench}
PICKLESCAN_SRC=${PICKLESCAN_SRC:-/work/oracle/picklescan/src}
/usr/bin/python3 "$(dirname "$0")/make_scan_inputs.py" "$DIR" >/dev/null
for f in many.pt big.pt legacy50k.pt dicts.pkl; do
  echo "== $f ($(stat -c %s "$DIR/$f") bytes)"
  /usr/bin/time -f "ckpt peak RSS %M KB" "$CKPT" scan "$DIR/$f" >/dev/null || true
  PYTHONPATH=$PICKLESCAN_SRC /usr/bin/time -f "picklescan peak RSS %M KB" \
    /usr/bin/python3 -m picklescan -p "$DIR/$f" >/dev/null || true
  hyperfine -N -i --warmup 1 --runs "${RUNS:-5}" \
    "$CKPT scan $DIR/$f" \
    "env PYTHONPATH=$PICKLESCAN_SRC /usr/bin/python3 -m picklescan -p $DIR/$f" 2>&1 |
    grep -E "Time|±|faster|Benchmark"
done
