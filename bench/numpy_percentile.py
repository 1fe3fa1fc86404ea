#!/usr/bin/python3
"""numpy.percentile over 10 M int64 samples: the reference for bench/percentile_bench.cpp.

The data has the same size, dtype and distribution as percentile_bench.cpp (log-normal
latencies in ns, median 1 ms, sigma 0.5, fixed seed); it is not bit-identical (a different
generator). numpy.percentile partitions a copy of its input (overwrite_input=False), as
trackiq::exact_percentiles copies before selecting, so both timings include one copy.

Output, one line per case (parsed by bench/run_benchmarks.sh):
    numpy_percentile case=p99 median_ms=120.512 min_ms=118.002 repeats=9
and with --json PATH the same figures as JSON.

Run with Debian's interpreter (/usr/bin/python3), which has python3-numpy.
"""
import argparse
import json
import statistics
import sys
import timeit

try:
    import numpy as np
except ImportError:
    sys.exit("error: numpy is not importable by %s; install python3-numpy (apt-get install "
             "python3-numpy) and run with /usr/bin/python3" % sys.executable)

SAMPLES = 10_000_000
SEED = 20261123
CASES = {
    "p99": 99.0,
    "standard5": [50.0, 90.0, 95.0, 99.0, 99.9],
}


def latencies_ns(n: int, seed: int) -> "np.ndarray":
    rng = np.random.default_rng(seed)
    return rng.lognormal(mean=np.log(1e6), sigma=0.5, size=n).astype(np.int64)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9, help="timed calls per case (median reported)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args()

    a = latencies_ns(SAMPLES, SEED)
    results = []
    for name, q in CASES.items():
        np.percentile(a, q)  # warm-up: first-touch costs and lazy imports are not timed
        times = timeit.repeat(lambda: np.percentile(a, q), number=1, repeat=args.repeats)
        med, best = statistics.median(times), min(times)
        results.append({"case": name, "median_ms": med * 1e3, "min_ms": best * 1e3,
                        "repeats": args.repeats})
        print(f"numpy_percentile case={name} median_ms={med * 1e3:.3f} "
              f"min_ms={best * 1e3:.3f} repeats={args.repeats}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"numpy_version": np.__version__, "samples": SAMPLES, "dtype": "int64",
                       "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
