#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (+ASan/UBSan) and runs each for SECONDS (default 30),
# starting from the seed corpus in tests/fuzz/corpus/<target>/. Exit non-zero on any crash.
set -euo pipefail
seconds=${1:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DTRACKIQ_SANITIZE=address,undefined -DTRACKIQ_BUILD_FUZZ=ON \
  -DTRACKIQ_WITH_TORCH=OFF -DTRACKIQ_WITH_OPENCV=OFF -DTRACKIQ_BUILD_TESTS=OFF \
  -DTRACKIQ_BUILD_BENCH=OFF -DTRACKIQ_BUILD_APPS=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-2}"
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
