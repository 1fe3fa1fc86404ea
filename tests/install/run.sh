#!/usr/bin/env bash
# Installs the build in BUILD_DIR into a scratch prefix, then configures, builds and runs a
# consumer project against it with find_package(trackiq).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")" && pwd)
prefix=$build/install-test/prefix
rm -rf "$build/install-test"
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$src/consumer" -B "$build/install-test/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build/install-test/consumer" >/dev/null
"$build/install-test/consumer/consumer" | grep -q "SYNTHETIC WORKLOAD"
echo "installed package works: find_package(trackiq), trackiq::runner, trackiq::report"
