#!/usr/bin/env bash
# The sampler's CPU per sample at 100 ms against psutil reading the same metrics (SPEC §4: >= 10x
# cheaper), in rounds that alternate the two, with the floor under a TrackIQ tick (the same system
# calls with nothing else: BM_Tick100msSyscallsOnly). docs/performance.md §4 quotes its output.
#
#   bash bench/sampler_vs_psutil.sh [--build DIR] [--rounds N] [--repetitions N] [--busy]
#
# --busy keeps every CPU busy with one SCHED_IDLE spinner each while measuring, so that no vCPU
# halts between ticks (a machine serving inference is rarely idle; on a VM a halted vCPU's
# wake-up is most of a tick's cost). The spinners run only at the idle scheduling class: the
# sampler and psutil preempt them at once. Output: one line per round and the medians.
set -euo pipefail

build=build rounds=3 reps=5 busy=0
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --repetitions) reps="$2"; shift 2 ;;
    --busy) busy=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sampler_vs_psutil.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bench_dir=$(cd "$(dirname "$0")" && pwd)
exe="$build/bin/sampler_bench"
[[ -x "$exe" ]] || { echo "sampler_vs_psutil.sh: $exe not found: build the target sampler_bench (TRACKIQ_BUILD_BENCH=ON)" >&2; exit 2; }
/usr/bin/python3 -c 'import psutil' 2>/dev/null || { echo "sampler_vs_psutil.sh: /usr/bin/python3 cannot import psutil (apt-get install python3-psutil)" >&2; exit 2; }

out=$(mktemp -d)
spinners=()
cleanup() {
  ((${#spinners[@]})) && kill "${spinners[@]}" 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT
if ((busy)); then
  for ((i = 0; i < $(nproc); ++i)); do
    chrt --idle 0 bash -c 'while :; do :; done' &
    spinners+=($!)
  done
fi

echo "machine: $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)$( ((busy)) && echo ', busy: one SCHED_IDLE spinner per CPU')"
for ((r = 1; r <= rounds; ++r)); do
  "$exe" --benchmark_filter='BM_Sampler100ms|BM_Tick100msSyscallsOnly' --benchmark_repetitions="$reps" \
    --benchmark_report_aggregates_only=true --benchmark_format=json >"$out/trackiq.json" 2>/dev/null
  # The tight-loop cases are not used here: kept short.
  /usr/bin/python3 "$bench_dir/psutil_sampler.py" --repeats "$reps" --tight-seconds 0.2 --json "$out/psutil.json" >/dev/null
  python3 - "$out" "$r" <<'EOF'
import json, sys
out, r = sys.argv[1], sys.argv[2]
bench = {b["name"]: b for b in json.load(open(f"{out}/trackiq.json"))["benchmarks"] if b.get("aggregate_name") == "median"}
def counter(prefix, key):
    return next(b[key] for n, b in bench.items() if n.startswith(prefix))
trackiq = counter("BM_Sampler100ms", "cpu_us_per_sample")
floor = counter("BM_Tick100msSyscallsOnly", "cpu_us_per_tick")
wake = counter("BM_Tick100msSyscallsOnly", "wake_us")
ps = json.load(open(f"{out}/psutil.json"))
psutil = next(c["cpu_us_per_sample"] for c in ps["results"] if c["case"] == "interval100ms" and c["set"] == "full")
print(f"round {r}: trackiq {trackiq:.1f} us/sample, floor {floor:.1f} (wake {wake:.1f}), psutil {psutil:.1f}: "
      f"psutil/trackiq {psutil / trackiq:.2f}, psutil/floor {psutil / floor:.2f}")
with open(f"{out}/rounds.tsv", "a") as f:
    f.write(f"{trackiq}\t{floor}\t{psutil}\n")
EOF
done
python3 - "$out" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(f"{sys.argv[1]}/rounds.tsv")]
t, f, p = (statistics.median(c) for c in zip(*rows))
ratios = [row[2] / row[0] for row in rows]
print(f"median of {len(rows)} rounds: trackiq {t:.1f} us/sample, floor {f:.1f}, psutil {p:.1f}; "
      f"psutil/trackiq {statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f}; SPEC §4: >= 10)")
EOF
