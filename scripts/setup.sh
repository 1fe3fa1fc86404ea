#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing TrackIQ needs.
# Idempotent: when everything is present it only runs dpkg-query and exits (no apt).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  # libraries
  nlohmann-json3-dev libsimdjson-dev libcli11-dev libfmt-dev libyaml-cpp-dev libsqlite3-dev sqlite3 libpqxx-dev libboost-dev libssl-dev
  prometheus-cpp-dev
  # analyze logs: user-supplied patterns in linear time
  libre2-dev
  # the HTML report's front end (npm ci in web/), its browser tests and PDF printing
  nodejs chromium poppler-utils
  libtorch-dev libopencv-dnn-dev libopencv-core-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the PostgreSQL store tests start their own server (initdb in a temp dir)
  postgresql-15
  # the Prometheus exposition's tests: promtool check metrics, and a real server scraping trackiq
  prometheus
  python3 python3-numpy python3-scipy python3-jsonschema python3-torch python3-onnx python3-psutil
  # the Python binding (python/, `import trackiq`) against Debian's Python 3.11
  pybind11-dev python3-dev
  # the Python binding's benchmark peer (bench/python_tracker_bench.py)
  python3-prometheus-client
  # a comma-decimal locale, to test locale-independent number formatting
  locales
  # the load generator's benchmark against wrk (bench/load_vs_wrk.sh)
  nginx-light wrk
  # peak RSS of one child process (bench/startup_bench.py)
  time
)
# npm: Debian's package, unless a Node.js that bundles its own npm (NodeSource) is installed.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

ensure_test_locale() {
  if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
    echo "setup: generating the de_DE.UTF-8 locale (for locale-independence tests)" >&2
    localedef -i de_DE -f UTF-8 de_DE.UTF-8 || echo "setup: could not generate de_DE.UTF-8; that test will skip" >&2
  fi
}

if [[ ${#missing[@]} -eq 0 ]]; then
  ensure_test_locale
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
ensure_test_locale
echo "setup: done" >&2
