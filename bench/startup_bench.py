#!/usr/bin/env python3
"""Start-up cost of trackiq commands that run no model, against `python3 -c pass` in the same run.

Each command is run N times (alternating, so drift on a shared machine hits all alike); for each
run the wall time (perf_counter around spawn to exit, GNU time included: ~1 ms) and the peak RSS
(GNU time's %M) are taken. Not wait4's ru_maxrss: a child forked from this Python process starts
with Python's RSS as its high-water mark, which exec does not reset. Prints medians and the ratio to `python3 -c pass`, and checks the
budget of issue #18: <= 30 ms wall (median) and <= 20 MiB peak RSS. `monitor --duration 100ms`
samples for 100 ms by design: its budget applies to the wall time minus those 100 ms.

    python3 bench/startup_bench.py [--trackiq build/bin/trackiq] [--repeats 21] [--json out.json]

Also times `trackiq run builtin:mlp --repeat 3` with LD_DEBUG=files to count how many times the
LibTorch plugin is initialised in that one process (it must be once).
Standard library only; exit 1 when a budget is missed.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BUDGET_MS = 30.0
BUDGET_MIB = 20.0


def run_once(argv, rss_file):
    start = time.perf_counter()
    rc = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall_ms = (time.perf_counter() - start) * 1e3
    if rc != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {rc}")
    with open(rss_file) as f:
        return wall_ms, int(f.read().split()[-1]) / 1024.0  # KiB


def make_store(trackiq, path, runs):
    """A store of `runs` runs: one Google Benchmark JSON with that many benchmarks, imported once."""
    benchmarks = [
        {"name": f"BM_Case/{i}", "run_name": f"BM_Case/{i}", "run_type": "iteration", "repetitions": 1,
         "repetition_index": 0, "threads": 1, "iterations": 1000, "real_time": 100.0 + i % 7,
         "cpu_time": 99.0 + i % 7, "time_unit": "ns"}
        for i in range(runs)
    ]
    doc = {"context": {"date": "2026-12-02T00:00:00+00:00", "host_name": "bench", "executable": "bench",
                       "num_cpus": 2, "mhz_per_cpu": 2000, "cpu_scaling_enabled": False, "caches": [],
                       "library_build_type": "release"},
           "benchmarks": benchmarks}
    src = path + ".gbench.json"
    with open(src, "w") as f:
        json.dump(doc, f)
    subprocess.run([trackiq, "import", "--format", "gbench", src, "--store", path], check=True,
                   stdout=subprocess.DEVNULL)
    listed = subprocess.run([trackiq, "runs", "list", "--limit", "0", "--json", "--store", path], check=True,
                            capture_output=True, text=True).stdout
    count = len(json.loads(listed))
    if count != runs:
        raise SystemExit(f"store holds {count} runs, expected {runs}")


def plugin_inits(trackiq, store):
    env = dict(os.environ, LD_DEBUG="files")
    p = subprocess.run([trackiq, "run", "builtin:mlp", "--duration", "0.3", "--warmup", "0", "--repeat", "3",
                        "--group", "startup-bench", "--store", store],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"run builtin:mlp --repeat 3: exit {p.returncode}")
    return sum(1 for line in p.stderr.splitlines()
               if "calling init:" in line and "libtrackiq_backend_torch.so" in line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trackiq", default="build/bin/trackiq")
    ap.add_argument("--python", default="/usr/bin/python3", help="the peer: PYTHON -c pass")
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--json", help="write the medians here")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "store.db")
        make_store(a.trackiq, store, 1000)
        cases = [
            ("python3 -c pass (peer)", [a.python, "-c", "pass"], 0.0),
            ("trackiq --version", [a.trackiq, "--version"], 0.0),
            ("trackiq metrics --names", [a.trackiq, "metrics", "--names"], 0.0),
            ("trackiq runs list (1,000-run store)", [a.trackiq, "runs", "list", "--store", store], 0.0),
            ("trackiq monitor --duration 100ms", [a.trackiq, "monitor", "--duration", "100ms",
                                                  "-o", os.path.join(tmp, "m.csv")], 100.0),
        ]
        samples = {name: ([], []) for name, _, _ in cases}
        for _ in range(a.repeats):
            for name, argv, _ in cases:
                wall, rss = run_once(argv, os.path.join(tmp, "rss"))
                samples[name][0].append(wall)
                samples[name][1].append(rss)
        inits = plugin_inits(a.trackiq, os.path.join(tmp, "run.db"))

    peer = statistics.median(samples[cases[0][0]][0])
    out, ok = {}, True
    print(f"{'command':<40} {'wall ms':>9} {'- by design':>11} {'peak MiB':>9} {'wall/peer':>9}  budget")
    for name, _, by_design in cases:
        wall = statistics.median(samples[name][0])
        rss = statistics.median(samples[name][1])
        own = wall - by_design
        is_peer = name == cases[0][0]
        met = is_peer or (own <= BUDGET_MS and rss <= BUDGET_MIB)
        ok = ok and met
        print(f"{name:<40} {wall:9.1f} {own:11.1f} {rss:9.1f} {wall / peer:9.2f}  "
              f"{'-' if is_peer else ('met' if met else 'MISSED')}")
        out[name] = {"wall_ms_median": wall, "own_ms_median": own, "peak_rss_mib_median": rss,
                     "wall_over_python": wall / peer, "repeats": a.repeats}
    print(f"LibTorch plugin initialised {inits} time(s) in one `run builtin:mlp --repeat 3`")
    ok = ok and inits == 1
    out["torch_plugin_inits_in_repeat_3"] = inits
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
