#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# Runs each libFuzzer target of a CKPT_FUZZ=ON build for SECONDS, one after
# the other, starting from its seed corpus and regressions. The working corpus
# lives in BUILD_DIR/fuzz-work/<target>/ (the repository is never written);
# inputs the fuzzer finds interesting accumulate there across runs. Exits
# non-zero if any target crashed, leaked, timed out or failed a property
# check, and prints the reproducer's path.
#
#   make fuzz                                   # = bash fuzz/run.sh build-fuzz 30
#   bash fuzz/run.sh build-fuzz 600 safetensors_open_fuzzer
#
# Reproduce a finding:  BUILD_DIR/fuzz/TARGET REPRODUCER
# Minimise it:          BUILD_DIR/fuzz/TARGET -minimize_crash=1 -runs=20000 \
#                         -exact_artifact_path=OUT REPRODUCER
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
duration=$2
shift 2
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(safetensors_open_fuzzer safetensors_index_fuzzer gguf_open_fuzzer gguf_split_fuzzer zip_fuzzer pickle_fuzzer pytorch_open_fuzzer scan_fuzzer)
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  if [[ ! -x $bin ]]; then
    echo "fuzz: $bin not built (configure with CC=clang CXX=clang++ -DCKPT_FUZZ=ON)" >&2
    exit 2
  fi
  work=$build/fuzz-work/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -n "$src/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
  cp -n "$src/regressions/$t/"* "$work/corpus/" 2>/dev/null || true
  rm -f "$work/artifacts/"*
  dict=()
  dict_file=$src/$t.dict
  [[ $t == gguf_split_fuzzer ]] && dict_file=$src/gguf_open_fuzzer.dict  # same file format
  [[ -f $dict_file ]] && dict=(-dict="$dict_file")
  log=$work/fuzz.log
  echo "fuzz: $t for ${duration}s (corpus $work/corpus, log $log)"
  set +e
  "$bin" "$work/corpus" "${dict[@]}" \
    -max_total_time="$duration" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  { grep -E '^#[0-9]+' "$log" | tail -n 1
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log"
  } | sed 's/^/  /' || true
  artifacts=$(find "$work/artifacts" -type f | sort)
  if [[ $rc -ne 0 || -n $artifacts ]]; then
    failed=1
    echo "fuzz: $t FAILED (exit $rc); last lines of $log:" >&2
    tail -n 40 "$log" | sed 's/^/  | /' >&2
    for a in $artifacts; do echo "fuzz: reproducer: $a  (run: $bin $a)" >&2; done
  else
    echo "fuzz: $t OK"
  fi
done
exit $failed
