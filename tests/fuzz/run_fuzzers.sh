#!/usr/bin/env bash
# Runs each libFuzzer target of BUILD_DIR (built by `make fuzz`: clang, ASan+UBSan, the libraries
# instrumented for coverage) for SECONDS, starting from the seed corpus in
# tests/fuzz/corpus/<target>/. Exit non-zero on any crash.
#   run_fuzzers.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$(cd "$1" && pwd)
seconds=${2:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
# The targets are listed once, in tests/fuzz/CMakeLists.txt, which writes them to fuzz_targets.txt.
mapfile -t targets <"$build/fuzz_targets.txt"
for target in "${targets[@]}"; do
  work=$build/corpus/$target
  mkdir -p "$work"
  seeds=$root/tests/fuzz/corpus/$target
  echo "fuzz: $target for ${seconds}s"
  "$build/bin/$target" -max_total_time="$seconds" -max_len=65536 -print_final_stats=0 \
    -artifact_prefix="$build/crash-$target-" \
    "$work" $( [ -d "$seeds" ] && echo "$seeds" ) 2>&1 | tail -n 3
done
echo "fuzz: no crashes"
