#!/usr/bin/env bash
# Runs two builds of a Google Benchmark binary alternately (A, B, A, B, ...) and prints, per
# benchmark, the median and range of each side and the ratio B/A of the medians. Alternating
# spreads slow phases of a shared machine (other builds, frequency changes) over both sides.
#
#   bench/interleave.sh OLD_BINARY NEW_BINARY RUNS [benchmark args...]
#   bench/interleave.sh /tmp/histogram_bench_main build/bin/histogram_bench 9 \
#       --benchmark_filter='BM_HistogramRecord' --benchmark_min_time=0.2
#
# The value compared is the counter ns_per_record where a benchmark has it, else cpu_time (in
# the benchmark's unit). Each run's JSON is kept in $OUT_DIR (default: a temporary directory).
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 OLD_BINARY NEW_BINARY RUNS [benchmark args...]" >&2
  exit 2
fi
old=$1 new=$2 runs=$3
shift 3
for b in "$old" "$new"; do
  [[ -x $b ]] || { echo "$0: not an executable: $b" >&2; exit 2; }
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "$0: RUNS must be a positive integer: $runs" >&2; exit 2; }
out=${OUT_DIR:-$(mktemp -d)}
mkdir -p "$out"
for ((i = 1; i <= runs; i++)); do
  "$old" "$@" --benchmark_format=json >"$out/a-$i.json" 2>/dev/null
  "$new" "$@" --benchmark_format=json >"$out/b-$i.json" 2>/dev/null
done
python3 - "$out" "$runs" <<'EOF'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
def load(side):
    vals = {}
    for i in range(1, runs + 1):
        with open(f"{out}/{side}-{i}.json") as f:
            for b in json.load(f)["benchmarks"]:
                if b.get("run_type") == "aggregate":
                    continue
                if "ns_per_record" in b:
                    v, unit = b["ns_per_record"] * 1e9, "ns/value"
                else:
                    v, unit = b["cpu_time"], b.get("time_unit", "ns")
                vals.setdefault(b["name"], ([], unit))[0].append(v)
    return vals
a, b = load("a"), load("b")
print(f"{runs} alternating runs of each; JSON in {out}")
print(f"{'benchmark':32} {'old median':>12} {'old range':>19} {'new median':>12} {'new range':>19} {'new/old':>8}")
for name, (va, unit) in a.items():
    vb = b.get(name, ([], unit))[0]
    if not vb:
        continue
    ma, mb = statistics.median(va), statistics.median(vb)
    print(f"{name:32} {ma:12.3f} {min(va):9.3f}-{max(va):<9.3f} {mb:12.3f} {min(vb):9.3f}-{max(vb):<9.3f} {mb / ma:8.3f}  {unit}")
EOF
