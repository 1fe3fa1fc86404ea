#!/usr/bin/env bash
# The change-point detector's quality and speed bars (issue #13) in one invocation, for
# docs/performance.md §10:
#   1. TCPD: F1 and segmentation cover as TCPDBench computes them, default options, against the
#      "no change" baseline (bin/changepoint_tcpd on ../shared/tcpd or $TCPD_DIR);
#   2. seeded simulations: series with a change point under no change (<= 5 %), recall of
#      planted 3 x CV shifts (>= 0.9, ±5 points), outliers (bin/changepoint_simulation_test);
#   3. speed: bin/changepoint_bench (Google Benchmark, medians of 5) and Otava's algorithm in
#      numpy (bench/otava_numpy.py, Debian's /usr/bin/python3) on the same kinds of series, with
#      the ratio otava / trackiq (bar >= 50) and the 1 ms / 5 ms bars for 1,000 / 5,000 points.
#
#   bench/changepoint_quality.sh BUILD_DIR
#
# BUILD_DIR must hold bin/changepoint_tcpd, bin/changepoint_bench and bin/changepoint_simulation_test
# (a Release build with tests and benchmarks: `make build`). Output and JSON go to
# $BUILD_DIR/bench-results/changepoint/. Takes about 2 minutes on the 2-core VM. Exit 0 when
# everything ran (a missed bar is printed, not an error), 2 on a usage or setup error.
set -euo pipefail

readonly PYTHON=/usr/bin/python3
if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$1
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tcpd=${TCPD_DIR:-$bench_dir/../../shared/tcpd}
out=$build/bench-results/changepoint
for exe in changepoint_tcpd changepoint_bench changepoint_simulation_test; do
  if [[ ! -x $build/bin/$exe ]]; then
    echo "changepoint_quality.sh: error: $build/bin/$exe not found; build it first (cmake --build $build --target $exe)" >&2
    exit 2
  fi
done
if [[ ! -f $tcpd/annotations.json ]]; then
  echo "changepoint_quality.sh: error: no TCPD data in $tcpd (set TCPD_DIR)" >&2
  exit 2
fi
if ! numpy_version=$("$PYTHON" -c 'import numpy, scipy; print(numpy.__version__, scipy.__version__)' 2>/dev/null); then
  echo "changepoint_quality.sh: error: $PYTHON cannot import numpy and scipy (apt-get install python3-numpy python3-scipy)" >&2
  exit 2
fi
mkdir -p "$out"

{
  echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu:     $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
  echo "nproc:   $(nproc)"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "numpy, scipy: $numpy_version ($PYTHON)"
  echo "git:     $(git -C "$bench_dir" describe --always --dirty 2>/dev/null || echo unknown)"
} | tee "$out/machine.txt"

echo
echo "== 1. TCPD ($tcpd), default options"
"$build/bin/changepoint_tcpd" "$tcpd" --json "$out/tcpd.json" | tee "$out/tcpd.txt"

echo
echo "== 2. Seeded simulations (null, outliers, planted shifts)"
"$build/bin/changepoint_simulation_test" | grep -E '^(null|outliers|planted)|PASSED|FAILED' | tee "$out/simulation.txt"

echo
echo "== 3. Speed: trackiq (Google Benchmark, median of 5) and Otava's algorithm in numpy (median of 5)"
"$build/bin/changepoint_bench" --benchmark_filter=BM_Detect/ --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_out="$out/trackiq.json" --benchmark_out_format=json >/dev/null
"$PYTHON" "$bench_dir/otava_numpy.py" --repetitions 5 --json "$out/otava.json" >/dev/null
"$build/bin/changepoint_bench" --benchmark_filter='BM_ManySeries|BM_DetectStore' --benchmark_out="$out/many.json" \
  --benchmark_out_format=json >/dev/null
"$PYTHON" - "$out/trackiq.json" "$out/otava.json" "$out/many.json" <<'EOF' | tee "$out/speed.txt"
import json, sys
tq = json.load(open(sys.argv[1]))
ot = json.load(open(sys.argv[2]))
many = json.load(open(sys.argv[3]))
kinds = {0: "shifts", 1: "noise", 2: "lognormal", 3: "random_walk"}
ours = {}
for b in tq["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    _, kind, n = b["run_name"].split("/")
    scale = {"us": 1e-3, "ms": 1.0, "ns": 1e-6}[b["time_unit"]]
    ours[(kinds[int(kind)], int(n))] = b["real_time"] * scale
print(f"{'series':<12} {'n':>5} {'trackiq ms':>11} {'otava_numpy ms':>15} {'ratio':>7}  bar")
for r in ot["results"]:
    key = (r["kind"], r["n"])
    if key not in ours:
        continue
    t, o = ours[key], r["median_ms"]
    bar = ""
    if r["kind"] != "random_walk" and r["n"] in (1000, 5000):
        limit = 1.0 if r["n"] == 1000 else 5.0
        bar = f"< {limit:g} ms: {'yes' if t < limit else 'NO'}; ratio >= 50: {'yes' if o / t >= 50 else 'NO'}"
    print(f"{r['kind']:<12} {r['n']:>5} {t:>11.3f} {o:>15.2f} {o / t:>7.0f}  {bar}")
what = {"BM_ManySeries": "detector, shifts", "BM_DetectStore": "detect: all in full + BH",
        "BM_DetectStoreAppend": "detect: after one appended point per series"}
for b in many["benchmarks"]:
    name = b["run_name"].split("/")[0]
    print(f"10,000 series x 1,000 points ({what.get(name, name)}), one thread: {b['real_time']:.0f} {b['time_unit']}"
          + (" (bar < 10 s: " + ("yes" if b["real_time"] * {"ms": 1e-3, "s": 1.0}.get(b["time_unit"], 1e-3) < 10 else "NO") + ")"
             if name == "BM_DetectStore" else ""))
EOF
echo
echo "outputs in $out"
