#!/bin/sh
# `trackiq detect` end to end on a SQLite store (docs/performance.md §10.3): fills a store with
# KEYS products x RUNS runs (6 key metrics each, so 6 x KEYS series; one product in ten with a
# +20 % latency step), then times detect the first time, again with nothing new, after one run
# was appended to every product, and with --full.
#   BUILD_DIR=build bench/detect_store.sh [KEYS [RUNS]]      (defaults 100 1000: ~480 MB, ~1 min)
set -eu
build=${BUILD_DIR:-build}
keys=${1:-100}
runs=${2:-1000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
store="$dir/store.db"
t() { /usr/bin/time -f "  %e s wall, %U s user, %S s sys, %M KB max RSS" "$@"; }
echo "== fill: $keys products x $runs runs"
t "$build/bin/detect_store_fill" "$store" "$keys" "$runs"
ls -l "$store" | awk '{print "  store: " $5 " bytes"}'
for what in first unchanged; do
  echo "== detect ($what)"
  t "$build/bin/trackiq" detect --store "$store" | sed -n 2,3p || true
done
"$build/bin/detect_store_fill" "$store" "$keys" "$runs" --append
echo "== detect (one run appended to every product)"
t "$build/bin/trackiq" detect --store "$store" | sed -n 2,3p || true
echo "== detect --full"
t "$build/bin/trackiq" detect --full --store "$store" | sed -n 2,3p || true
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
