#!/usr/bin/env bash
# Runs the command-line contract cases: tests/cli/<subcommand>/<case>.sh.
# Each case runs in tests/data with $CKPT set to the binary and $TMP a scratch
# directory; beside it:
#   <case>.exit           expected exit status (required)
#   <case>.stdout.exact   expected stdout, byte for byte
#   <case>.stdout.glob    a bash glob stdout must match
#   <case>.stderr.glob    a bash glob stderr must match
# Usage: run_cases.sh CKPT_BINARY [--update]   (--update rewrites .exit/.exact)
set -u
CKPT=$(realpath "$1"); UPDATE=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../data
pass=0; fail=0
for case in "$HERE"/*/*.sh; do
  name=${case#"$HERE"/}; name=${name%.sh}
  base=${case%.sh}
  TMP=$(mktemp -d)
  out=$(cd "$DATA" && CKPT="$CKPT" TMP="$TMP" bash "$case" 2>"$TMP/.stderr"); code=$?
  err=$(cat "$TMP/.stderr")
  rm -rf "$TMP"
  if [ "$UPDATE" = "--update" ]; then
    echo "$code" > "$base.exit"
    [ -f "$base.stdout.exact" ] && printf '%s\n' "$out" > "$base.stdout.exact"
  fi
  ok=1; why=""
  expected_code=$(cat "$base.exit" 2>/dev/null || echo missing)
  [ "$code" = "$expected_code" ] || { ok=0; why="exit $code, expected $expected_code"; }
  if [ -f "$base.stdout.exact" ] && [ "$out" != "$(cat "$base.stdout.exact")" ]; then
    ok=0; why="$why; stdout differs:"$'\n'"$(diff <(printf '%s\n' "$out") "$base.stdout.exact")"
  fi
  if [ -f "$base.stdout.glob" ]; then
    pat=$(cat "$base.stdout.glob"); [[ "$out" == $pat ]] || { ok=0; why="$why; stdout does not match glob: $out"; }
  fi
  if [ -f "$base.stderr.glob" ]; then
    pat=$(cat "$base.stderr.glob"); [[ "$err" == $pat ]] || { ok=0; why="$why; stderr does not match glob: $err"; }
  fi
  if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name: $why"; fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
