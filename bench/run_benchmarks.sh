#!/usr/bin/env bash
# Runs TrackIQ's microbenchmarks, numpy's percentile and a psutil sampler in one invocation, then
# prints medians, the SPEC §4 targets and the numpy / trackiq and psutil / trackiq ratios
# (bench/summarize_benchmarks.py).
#
#   bench/run_benchmarks.sh BUILD_DIR      (`make bench` runs it with BUILD_DIR=build)
#
# BUILD_DIR must hold bin/histogram_bench, bin/percentile_bench, bin/runner_null_bench and
# bin/sampler_bench (configure with TRACKIQ_BUILD_BENCH=ON, Release). The Google Benchmark JSON,
# numpy's and psutil's JSON, the machine description and the summary go to
# $BUILD_DIR/bench-results/ (or $TRACKIQ_BENCH_OUT). numpy and psutil run under Debian's
# /usr/bin/python3 (python3-numpy, python3-psutil); the script stops before running anything when
# that interpreter cannot import either.
# Takes about 2 min on the reference 2-core VM (the sampler comparison alone ~1 min 15 s: 5 x 3 s
# paced runs on each side, and 5 x 3 s of BM_Tick100msBreakdown). Exit status: 0 when every benchmark ran (a missed target is printed,
# not an error), 1 when one failed, 2 for a usage or setup error.
set -euo pipefail

readonly PYTHON=/usr/bin/python3
readonly REPETITIONS=5

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build_dir=$1
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out_dir=${TRACKIQ_BENCH_OUT:-$build_dir/bench-results}

if [[ ! -x $PYTHON ]]; then
  echo "run_benchmarks.sh: error: $PYTHON not found; the numpy comparison needs Debian's python3 with python3-numpy" >&2
  exit 2
fi
if ! numpy_version=$("$PYTHON" -c 'import numpy; print(numpy.__version__)' 2>/dev/null); then
  echo "run_benchmarks.sh: error: $PYTHON cannot import numpy; install it with 'apt-get install python3-numpy'" >&2
  exit 2
fi
if ! psutil_version=$("$PYTHON" -c 'import psutil; print(psutil.__version__)' 2>/dev/null); then
  echo "run_benchmarks.sh: error: $PYTHON cannot import psutil (the reference for sampler_bench); install it with 'apt-get install python3-psutil'" >&2
  exit 2
fi
for exe in histogram_bench percentile_bench runner_null_bench sampler_bench tegrastats_bench; do
  if [[ ! -x $build_dir/bin/$exe ]]; then
    echo "run_benchmarks.sh: error: $build_dir/bin/$exe not found; build with -DTRACKIQ_BUILD_BENCH=ON first" >&2
    exit 2
  fi
done
mkdir -p "$out_dir"

{
  echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu:     $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
  echo "nproc:   $(nproc)"
  echo "kernel:  $(uname -sr)"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "numpy:   $numpy_version ($PYTHON)"
  echo "psutil:  $psutil_version ($PYTHON)"
  echo "git:     $(git -C "$bench_dir" describe --always --dirty 2>/dev/null || echo unknown)"
} | tee "$out_dir/machine.txt"

# run_gbench NAME: one Google Benchmark executable, medians of $REPETITIONS repetitions, console
# output to the terminal and JSON to $out_dir/NAME.json.
run_gbench() {
  local name=$1
  echo
  echo "== $name"
  "$build_dir/bin/$name" \
    --benchmark_repetitions="$REPETITIONS" \
    --benchmark_report_aggregates_only=true \
    --benchmark_out="$out_dir/$name.json" \
    --benchmark_out_format=json
}

run_gbench histogram_bench
# numpy right after our percentiles, so that both see the same machine conditions.
run_gbench percentile_bench
echo
echo "== numpy_percentile.py"
"$PYTHON" "$bench_dir/numpy_percentile.py" --json "$out_dir/numpy_percentile.json"
run_gbench runner_null_bench
# The telemetry sampler (TEL-2), then psutil reading the same metrics at the same rate.
run_gbench sampler_bench
run_gbench tegrastats_bench  # TEL-6: >= 100 MB/s (bytes_per_second in its output)
echo
echo "== psutil_sampler.py"
"$PYTHON" "$bench_dir/psutil_sampler.py" --repeats "$REPETITIONS" --json "$out_dir/psutil_sampler.json"

"$PYTHON" "$bench_dir/summarize_benchmarks.py" "$out_dir" | tee "$out_dir/summary.txt"
echo
echo "results in $out_dir"
