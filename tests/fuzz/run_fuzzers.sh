#!/usr/bin/env bash
# Runs each libFuzzer target of BUILD_DIR (built by `make fuzz`: clang, ASan+UBSan, the libraries
# instrumented for coverage) for SECONDS, starting from the seed corpus in
# tests/fuzz/corpus/<target>/, JOBS targets at a time (each fuzzer is one process on one core).
# Exit non-zero on any crash; the crashing input is kept as BUILD_DIR/crash-<target>-*.
#   run_fuzzers.sh BUILD_DIR [SECONDS]
set -euo pipefail
usage="usage: run_fuzzers.sh BUILD_DIR [SECONDS]  (BUILD_DIR: the tree \`make fuzz\` builds, build-asan)"
if [[ $# -lt 1 || $# -gt 2 ]]; then echo "$usage" >&2; exit 2; fi
if [[ ! -f $1/fuzz_targets.txt ]]; then
  echo "run_fuzzers.sh: $1: no fuzz_targets.txt (not a tree configured with TRACKIQ_BUILD_FUZZ=ON); $usage" >&2
  exit 2
fi
seconds=${2:-30}
if [[ ! $seconds =~ ^[1-9][0-9]*$ ]]; then echo "run_fuzzers.sh: SECONDS must be a positive integer, not '$seconds'" >&2; exit 2; fi
build=$(cd "$1" && pwd)
jobs=${JOBS:-2}
root=$(cd "$(dirname "$0")/../.." && pwd)
logs=$build/fuzz-logs
rm -rf "$logs"
mkdir -p "$logs"

fuzz_one() {
  local target=$1 work=$build/corpus/$1 seeds=$root/tests/fuzz/corpus/$1
  mkdir -p "$work"
  "$build/bin/$target" -max_total_time="$seconds" -max_len=65536 -print_final_stats=0 \
    -artifact_prefix="$build/crash-$target-" \
    "$work" $( [ -d "$seeds" ] && echo "$seeds" ) >"$logs/$target.log" 2>&1
}

# The targets are listed once, in tests/fuzz/CMakeLists.txt, which writes them to fuzz_targets.txt.
mapfile -t targets <"$build/fuzz_targets.txt"
declare -A pid_of=()
failed=()
wait_for() {
  local target=$1
  if ! wait "${pid_of[$target]}"; then failed+=("$target"); fi
  echo "fuzz: $target (${seconds}s): $(tail -n 1 "$logs/$target.log")"
}
running=()
for target in "${targets[@]}"; do
  if ((${#running[@]} >= jobs)); then
    wait_for "${running[0]}"
    running=("${running[@]:1}")
  fi
  fuzz_one "$target" &
  pid_of[$target]=$!
  running+=("$target")
done
for target in "${running[@]}"; do wait_for "$target"; done

if ((${#failed[@]} > 0)); then
  for target in "${failed[@]}"; do
    echo "fuzz: $target FAILED:"
    tail -n 40 "$logs/$target.log"
  done
  exit 1
fi
echo "fuzz: no crashes in ${#targets[@]} targets"
