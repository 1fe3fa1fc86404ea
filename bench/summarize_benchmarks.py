#!/usr/bin/python3
"""Summarises one bench/run_benchmarks.sh invocation against the SPEC §4 targets.

Reads, from RESULTS_DIR, the Google Benchmark JSON files (histogram_bench.json,
percentile_bench.json, runner_null_bench.json; run with --benchmark_repetitions and
--benchmark_report_aggregates_only, so each benchmark has a `median` aggregate) and
numpy_percentile.json from bench/numpy_percentile.py of the same invocation. Prints a table of
medians, targets and verdicts, and the numpy / trackiq time ratios.

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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
