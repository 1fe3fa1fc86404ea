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
consumer=$build/install-test/consumer
"$consumer/consumer" | grep -q "SYNTHETIC WORKLOAD"
# Linking trackiq::runner and trackiq::report brings no engine: LibTorch and OpenCV are plugins.
if grep -E "torch|opencv|c10" "$consumer/build.ninja" >/dev/null; then
  echo "the consumer's link line names LibTorch or OpenCV:" >&2
  grep -E -o "[^ ]*(torch|opencv|c10)[^ ]*" "$consumer/build.ninja" | sort -u >&2
  exit 1
fi
if ldd "$consumer/consumer" | grep -E "torch|opencv|c10"; then
  echo "the consumer loads LibTorch or OpenCV at start" >&2
  exit 1
fi
echo "installed package works: find_package(trackiq), trackiq::runner, trackiq::report, trackiq::tracker, trackiq::server; no engine linked"
# The Python binding, when this build has it (TRACKIQ_PYTHON_ENABLED): Debian's python3 imports
# the installed module, not the build tree's, and records a request with it.
if [ -n "$(find "$build/python" -maxdepth 1 -name 'trackiq*.so' 2>/dev/null)" ]; then
  pydir=$(dirname "$(find "$prefix" -name 'trackiq*.so' -path '*dist-packages*' | head -1)")
  if [ "$pydir" = . ]; then
    echo "the build has the Python binding but the install put no trackiq*.so under a dist-packages folder" >&2
    exit 1
  fi
  PYTHONPATH=$pydir /usr/bin/python3 - "$pydir" <<'PY'
import sys, trackiq
assert trackiq.__file__.startswith(sys.argv[1]), trackiq.__file__
t = trackiq.Tracker(service="installed")
with t.request("r") as r:
    with r.phase("forward"):
        r.token()
assert t.snapshot()["requests_completed"] == 1
PY
  echo "installed Python binding works: ${pydir#"$prefix"/}/$(basename "$(ls "$pydir"/trackiq*.so)") imports in /usr/bin/python3"
fi
# Programs that want to run models get the exported plugin.
if [ -f "$consumer/torch_plugin_dir.txt" ]; then
  TRACKIQ_BACKEND_PATH=$(cat "$consumer/torch_plugin_dir.txt") "$consumer/consumer" builtin:mlp |
    grep -q "engine run: builtin 5 queries"
  echo "installed plugin trackiq::backend_torch runs builtin:mlp in the consumer"
fi
