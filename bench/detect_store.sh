#!/bin/sh
# `trackiq detect` end to end on a SQLite store (docs/performance.md §10.3): fills a store with
# KEYS products x RUNS runs (6 key metrics each, so 6 x KEYS series; one product in ten with a
# +20 % latency step), then times detect the first time, again with nothing new, after one run
# was appended to every product, and with --full; each detect prints its phases (--timings).
#   BUILD_DIR=build bench/detect_store.sh [KEYS [RUNS]]      (defaults 100 1000: ~480 MB, ~1 min)
# STORE=PATH uses (and keeps) a store filled before with the same KEYS and RUNS: 10,000 series x
# 1,000 points (KEYS 1667) take ~8 GB and ~25 min to fill on a 2-core VM. Its kept detect state
# is cleared first (sqlite3), and one more run per product is appended to it.
set -eu
build=${BUILD_DIR:-build}
keys=${1:-100}
runs=${2:-1000}
if [ -n "${STORE:-}" ]; then
  store=$STORE
  sqlite3 "$store" "DELETE FROM series_state"
else
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  store="$dir/store.db"
  echo "== fill: $keys products x $runs runs"
  t() { /usr/bin/time -f "  %e s wall, %U s user, %S s sys, %M KB max RSS" "$@"; }
  t "$build/bin/detect_store_fill" "$store" "$keys" "$runs"
fi
t() { /usr/bin/time -f "  %e s wall, %U s user, %S s sys, %M KB max RSS" "$@"; }
ls -l "$store" | awk '{print "  store: " $5 " bytes"}'
for what in first unchanged; do
  echo "== detect ($what)"
  t "$build/bin/trackiq" detect --timings --store "$store" | sed -n 2,3p || true
done
"$build/bin/detect_store_fill" "$store" "$keys" "$runs" --append
echo "== detect (one run appended to every product)"
t "$build/bin/trackiq" detect --timings --store "$store" | sed -n 2,3p || true
echo "== detect --full"
t "$build/bin/trackiq" detect --full --timings --store "$store" | sed -n 2,3p || true
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
