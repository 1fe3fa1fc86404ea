#!/usr/bin/python3
"""Summarises one bench/run_benchmarks.sh invocation against the SPEC §4 targets.

Reads, from RESULTS_DIR, the Google Benchmark JSON files (histogram_bench.json,
percentile_bench.json, runner_null_bench.json, sampler_bench.json; run with
--benchmark_repetitions and --benchmark_report_aggregates_only, so each benchmark has a `median`
aggregate), numpy_percentile.json from bench/numpy_percentile.py and psutil_sampler.json from
bench/psutil_sampler.py of the same invocation. Prints a table of medians, targets and verdicts,
the numpy / trackiq time ratios and the psutil / trackiq sampler CPU ratios.

Exit status: 0 when every benchmark ran (a missed target is reported, not an error), 1 when a
result is missing or a benchmark reported an error.
"""
import json
import os
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


class Missing(Exception):
    pass


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise Missing(f"{path} not found") from None


def medians(doc, path):
    """run_name -> the median aggregate entry of that benchmark."""
    out = {}
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred"):
            raise Missing(f"{path}: {b.get('name')} failed: {b.get('error_message')}")
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median":
            out[b["run_name"]] = b
    return out


def time_ns(entry):
    return entry["real_time"] * UNIT_NS[entry["time_unit"]]


def get(meds, name, path):
    if name not in meds:
        raise Missing(f"{path}: no median for {name}")
    return meds[name]


# SPEC §4 / TEL-2: the sampler at 100 ms uses at most this % of one core, and is at least this
# many times cheaper than psutil doing the same reads (CPU per sample, same invocation).
SAMPLER_CORE_PCT_TARGET = 1.0
SAMPLER_PSUTIL_RATIO_TARGET = 10.0


def load_sampler(d):
    """The sampler figures: trackiq medians from sampler_bench.json, psutil's from
    psutil_sampler.json (raises Missing, naming the file and what to install, when absent)."""
    bench_path = os.path.join(d, "sampler_bench.json")
    ps_path = os.path.join(d, "psutil_sampler.json")
    doc = load(bench_path)
    if not os.path.exists(ps_path):
        raise Missing(f"{ps_path} not found (bench/psutil_sampler.py did not run: "
                      "is python3-psutil installed for /usr/bin/python3?)")
    ps = load(ps_path)
    meds = medians(doc, bench_path)
    paced = get(meds, "BM_Sampler100ms/iterations:1/real_time", bench_path)
    tight = get(meds, "BM_SampleAllCollectors", bench_path)
    per = {name.split("/", 1)[1]: e["cpu_ns_per_sample"] / 1e3
           for name, e in meds.items() if name.startswith("BM_SampleCollector/")}
    breakdown = meds.get("BM_Tick100msBreakdown/iterations:1/real_time", {})
    phases = {k[:-3]: v for k, v in breakdown.items() if k.endswith("_us")} if breakdown else {}
    by_case = {(r["case"], r["set"]): r for r in ps.get("results", [])}
    for key in (("tight", "full"), ("tight", "psutil"), ("interval100ms", "full")):
        if key not in by_case:
            raise Missing(f"{ps_path}: no result for case={key[0]} set={key[1]}")
    ctx = doc.get("context", {})
    return {
        "collectors": ctx.get("collectors", "?"),
        "unavailable": [u.split(":", 1)[0] for u in ctx.get("collectors_unavailable", "").split("; ") if u],
        "channels": int(paced["channels"]),
        "samples": paced["samples"],
        "late_ticks": paced["late_ticks"],
        "cpu_us": paced["cpu_us_per_sample"],
        "core_pct": paced["core_pct"],
        "process_core_pct": paced["process_core_pct"],
        "tight_us": tight["cpu_ns_per_sample"] / 1e3,
        "per_collector_us": per,
        "tick_phases_us": phases,
        "ps": by_case,
        "ps_version": ps.get("psutil_version", "?"),
    }


def print_sampler(s):
    ps_tight, ps_tight_only = s["ps"][("tight", "full")], s["ps"][("tight", "psutil")]
    ps_paced = s["ps"][("interval100ms", "full")]
    print(f"telemetry sampler (TEL-2), collectors {s['collectors']} ({s['channels']} channels); "
          f"not available here: {', '.join(s['unavailable']) or 'none'}")
    print(f"  at 100 ms, 3 s: sampler thread {s['cpu_us']:.1f} us CPU/sample = {s['core_pct']:.3f} % of one core "
          f"(whole process {s['process_core_pct']:.3f} %; {s['samples']:.0f} samples, {s['late_ticks']:.0f} late)")
    print(f"  psutil {s['ps_version']}, same metrics, same rate: {ps_paced['cpu_us_per_sample']:.1f} us CPU/sample "
          f"= {ps_paced['core_pct']:.3f} % of one core")
    print(f"  tight loop, CPU per sample: trackiq {s['tight_us']:.1f} us; psutil {ps_tight['cpu_us_per_sample']:.1f} us "
          f"(psutil calls alone, without cgroup/psi: {ps_tight_only['cpu_us_per_sample']:.1f} us)")
    if s["per_collector_us"]:
        print("  trackiq per collector, tight loop: " +
              ", ".join(f"{k} {v:.1f} us" for k, v in s["per_collector_us"].items()))
    if s["tick_phases_us"]:
        ph = dict(s["tick_phases_us"])
        clock = ph.pop("clock", 0.0)
        wake = ph.pop("wake", 0.0)
        print(f"  trackiq 100 ms tick, medians: sleep + wake-up {wake:.1f} us; " +
              ", ".join(f"{k} {v:.1f} us" for k, v in ph.items()) +
              f" (each includes one {clock:.1f} us clock read)")
    print(f"ratio psutil / trackiq CPU, at 100 ms  : {ps_paced['core_pct'] / s['core_pct']:.2f}  (> 1 means TrackIQ is cheaper)")
    print(f"ratio psutil / trackiq CPU, tight loop : {ps_tight['cpu_us_per_sample'] / s['tight_us']:.2f}")


def fmt_ns(ns):
    if ns < 1e3:
        return f"{ns:.2f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f} us"
    if ns < 1e7:
        return f"{ns / 1e6:.3f} ms"
    return f"{ns / 1e6:.1f} ms"


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} RESULTS_DIR", file=sys.stderr)
        return 2
    d = argv[1]
    paths = {k: os.path.join(d, f"{k}.json")
             for k in ("histogram_bench", "percentile_bench", "runner_null_bench", "numpy_percentile")}
    try:
        docs = {k: load(p) for k, p in paths.items()}
        hist = medians(docs["histogram_bench"], paths["histogram_bench"])
        pct = medians(docs["percentile_bench"], paths["percentile_bench"])
        run = medians(docs["runner_null_bench"], paths["runner_null_bench"])
        numpy_ms = {r["case"]: r["median_ms"] for r in docs["numpy_percentile"]["results"]}

        record = get(hist, "BM_HistogramRecord", paths["histogram_bench"])
        record_ns = record["ns_per_record"] * 1e9  # an inverted rate: seconds per record
        merge_ns = time_ns(get(hist, "BM_HistogramMerge64", paths["histogram_bench"]))
        merge_cold_ns = time_ns(get(hist, "BM_HistogramMerge64Cold/iterations:100", paths["histogram_bench"]))
        ours = {case: time_ns(get(pct, f"BM_ExactPercentiles/{case}/real_time", paths["percentile_bench"]))
                for case in ("p99", "standard5")}
        copy_ns = time_ns(get(pct, "BM_CopySamples/real_time", paths["percentile_bench"]))
        reused_ns = time_ns(get(pct, "BM_ExactPercentilesInplaceReusedScratch/real_time",
                                paths["percentile_bench"]))
        now = time_ns(get(run, "BM_NowNs", paths["runner_null_bench"]))
        infer = time_ns(get(run, "BM_NullInfer", paths["runner_null_bench"]))
        null_run = get(run, "BM_RunnerNullSingleStream/200000/real_time", paths["runner_null_bench"])
        for case in ("p99", "standard5"):
            if case not in numpy_ms:
                raise Missing(f"{paths['numpy_percentile']}: no result for case {case}")
        sampler = load_sampler(d)
    except Missing as e:
        print(f"summarize_benchmarks: error: {e}", file=sys.stderr)
        return 1

    ctx = docs["histogram_bench"].get("context", {})
    reps = record.get("repetitions", "?")
    print()
    print(f"TrackIQ benchmark summary: medians of {reps} repetitions; numpy: median of "
          f"{docs['numpy_percentile']['results'][0]['repeats']} calls, numpy "
          f"{docs['numpy_percentile']['numpy_version']}, same invocation")
    print(f"host {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs, "
          f"load average at start {' '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))}")
    print()
    rows = []

    def row(what, value, target, met):
        rows.append((what, value, target, "met" if met else "NOT MET"))

    row("Histogram::record (per value)", fmt_ns(record_ns), "<= 10 ns", record_ns <= 10)
    row("merge 64 histograms, warm (L3)", fmt_ns(merge_ns), "<= 1 ms", merge_ns <= 1e6)
    row("merge 64 histograms, cold (DRAM)", fmt_ns(merge_cold_ns), "<= 1 ms", merge_cold_ns <= 1e6)
    labels = {"p99": "exact_percentiles 10M, p99", "standard5": "exact_percentiles 10M, 5 std"}
    for case in ("p99", "standard5"):
        row(labels[case], fmt_ns(ours[case]), f"< numpy {numpy_ms[case]:.1f} ms",
            ours[case] < numpy_ms[case] * 1e6)
    row("sampler at 100 ms, all collectors", f"{sampler['core_pct']:.3f} %",
        f"<= {SAMPLER_CORE_PCT_TARGET:g} % of one core", sampler["core_pct"] <= SAMPLER_CORE_PCT_TARGET)
    ps_ratio = sampler["ps"][("interval100ms", "full")]["core_pct"] / sampler["core_pct"]
    row("sampler at 100 ms vs psutil", f"{ps_ratio:.1f}x", f">= {SAMPLER_PSUTIL_RATIO_TARGET:g}x cheaper",
        ps_ratio >= SAMPLER_PSUTIL_RATIO_TARGET)
    w = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{w}}  {'median':>10}  {'target':<20}  verdict")
    for what, value, target, verdict in rows:
        print(f"{what:<{w}}  {value:>10}  {target:<20}  {verdict}")
    print()
    for case in ("p99", "standard5"):
        ratio = numpy_ms[case] * 1e6 / ours[case]
        print(f"ratio numpy_time / trackiq_time, {case:<9}: {ratio:.2f} "
              f"(numpy {numpy_ms[case]:.1f} ms, trackiq {ours[case] / 1e6:.1f} ms; > 1 means TrackIQ is faster)")
    print(f"  breakdown: fresh 80 MB copy alone {fmt_ns(copy_ns)}; 5 quantiles with a reused scratch "
          f"buffer {fmt_ns(reused_ns)}")
    print()
    print(f"runner, null workload, single-stream, 200k queries:")
    print(f"  wall time / queries          {null_run['ns_per_query']:.1f} ns")
    print(f"  latency p50 / p99            {null_run['latency_p50_ns']:.0f} ns / {null_run['latency_p99_ns']:.0f} ns")
    print(f"  whole run_scenario / queries {null_run['s_per_query_all'] * 1e9:.1f} ns")
    print(f"  now_ns() {fmt_ns(now)}; null infer() alone {fmt_ns(infer)}")
    print()
    print_sampler(sampler)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
