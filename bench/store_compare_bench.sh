#!/usr/bin/env bash
# The store and compare benchmarks with 1 M-sample runs, and their peers in the same invocation:
#   * bin/store_bench (Google Benchmark, medians of 5): compare_results on 1 M vs 1 M samples,
#     Mann-Whitney U, the bootstrap (B = 100 and 1000), saving and loading a 1 M-sample run in
#     SQLite and in PostgreSQL (a throwaway server started here by tests/support/postgres.sh);
#   * bench/store_compare_peers.py on the same samples: scipy's mannwhitneyu, a numpy bootstrap,
#     Python's sqlite3 one row per sample, psql \copy;
#   * `trackiq compare base.json cur.json` end to end (two 14 MB result files), wall time and peak
#     RSS from /usr/bin/time, 3 times.
#
#   bench/store_compare_bench.sh BUILD_DIR      (`make bench` runs it after run_benchmarks.sh)
#
# Output in $BUILD_DIR/bench-results/ (or $TRACKIQ_BENCH_OUT): store_bench.json, peers.json,
# compare_cli.txt and store_summary.txt. About 1.5 min on the reference 2-core VM.
set -euo pipefail

readonly PYTHON=/usr/bin/python3
if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out_dir=${TRACKIQ_BENCH_OUT:-$build_dir/bench-results}
for exe in store_bench trackiq; do
  if [[ ! -x $build_dir/bin/$exe ]]; then
    echo "store_compare_bench.sh: error: $build_dir/bin/$exe not found; build first" >&2
    exit 2
  fi
done
if ! "$PYTHON" -c 'import numpy, scipy' 2>/dev/null; then
  echo "store_compare_bench.sh: error: $PYTHON cannot import numpy and scipy (apt-get install python3-numpy python3-scipy)" >&2
  exit 2
fi
mkdir -p "$out_dir"
work=$(mktemp -d)
pg_state=$work/pg
cleanup() {
  bash "$bench_dir/../tests/support/postgres.sh" stop "$pg_state" || true
  rm -rf "$work"
}
trap cleanup EXIT

bash "$bench_dir/../tests/support/postgres.sh" start "$pg_state"
pg_url=$(cat "$pg_state/url")

echo "== store_bench"
TRACKIQ_BENCH_POSTGRES=$pg_url "$build_dir/bin/store_bench" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_out="$out_dir/store_bench.json" --benchmark_out_format=json
"$build_dir/bin/store_bench" --write-samples "$work/samples"

echo
echo "== peers (scipy, numpy, sqlite3, psql)"
"$PYTHON" "$bench_dir/store_compare_peers.py" "$work/samples" --postgres "$pg_url" | tee "$out_dir/peers.json"

echo
echo "== trackiq compare base.json cur.json (wall s, peak RSS KiB)"
: >"$out_dir/compare_cli.txt"
for _ in 1 2 3; do
  /usr/bin/time -f '%e %M' -a -o "$out_dir/compare_cli.txt" \
    "$build_dir/bin/trackiq" compare "$work/samples/base.json" "$work/samples/cur.json" >/dev/null || [[ $? -eq 1 ]]
done
cat "$out_dir/compare_cli.txt"

"$PYTHON" - "$out_dir" <<'PY' | tee "$out_dir/store_summary.txt"
import json, statistics, sys
out = sys.argv[1]
gb = {b["run_name"]: b["real_time"] for b in json.load(open(f"{out}/store_bench.json"))["benchmarks"]
      if b.get("aggregate_name") == "median"}
def ms(prefix):
    return next(v for k, v in gb.items() if k.startswith(prefix))
peers = json.load(open(f"{out}/peers.json"))
def pm(name):
    return statistics.median(peers[name]) * 1e3
cli = [tuple(map(float, l.split())) for l in open(f"{out}/compare_cli.txt") if l.strip()]
rows = [
    ("compare_results, 1 M vs 1 M (in memory)", ms("BM_Compare1Mvs1M"), None, None),
    ("Mann-Whitney U, 1 M vs 1 M", ms("BM_MannWhitney1Mvs1M"), "scipy.stats.mannwhitneyu", pm("scipy_mannwhitneyu")),
    ("bootstrap median+p99, B=100", ms("BM_Bootstrap1Mvs1M/100"), "numpy, B=100", pm("numpy_bootstrap_b100")),
    ("bootstrap median+p99, B=1000", ms("BM_Bootstrap1Mvs1M/1000"), None, None),
    ("save a 1 M-sample run, SQLite", ms("BM_SaveRun1M/sqlite"), "python sqlite3, 1 row/sample", pm("python_sqlite3_rows")),
    ("save a 1 M-sample run, PostgreSQL", ms("BM_SaveRun1M/postgresql"), "psql \\copy, 1 row/sample", pm("psql_copy_rows")),
    ("load a 1 M-sample run, SQLite", ms("BM_LoadRun1M/sqlite"), None, None),
    ("load a 1 M-sample run, PostgreSQL", ms("BM_LoadRun1M/postgresql"), None, None),
]
print(f"{'benchmark':44} {'trackiq ms':>11}  {'peer':32} {'peer ms':>9} {'peer/trackiq':>12}")
for name, ours, peer, theirs in rows:
    ratio = f"{theirs / ours:12.1f}" if theirs else ""
    print(f"{name:44} {ours:11.1f}  {peer or '':32} {theirs or 0:9.1f} {ratio}" if peer else f"{name:44} {ours:11.1f}")
print(f"trackiq compare base.json cur.json (CLI, 2 x 14 MB JSON): median {statistics.median(c[0] for c in cli):.2f} s, "
      f"peak RSS {statistics.median(c[1] for c in cli) / 1024:.0f} MiB")
PY
