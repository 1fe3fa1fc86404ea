#!/usr/bin/python3
"""Per-request overhead of TrackIQ's Python binding (issue #15, LIB-4), against peers in the same run.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_tracker_bench.py [--repeat 9] [--number 20000]

One "request" is what an instrumented handler adds around its work: a request with three phases
(preprocess, forward, postprocess) and one counter increment, no work inside. Variants, each
timed with timeit over --repeat runs of --number requests, in ns per request: the median CPU
time of the process (time.process_time: what the recording costs, not the time spent waiting
for a core on a shared machine) and the best wall time:

  empty          the same Python function shape with no instrumentation (the floor: a call)
  dict_timer     a plain-Python timer: time.perf_counter_ns() around each phase, durations
                 appended to lists in a dict under a threading.Lock, a dict counter
  prometheus     prometheus_client (Debian python3-prometheus-client): a Histogram.time() per
                 phase and the request, a Counter.inc()
  trackiq        trackiq.Tracker: `with t.request(): with r.phase(...)` ×3, counter.inc()
  trackiq_2thr   trackiq with two Python threads recording at once (per request of the pair:
                 CPU time and wall time / requests both made; the GIL serialises the Python parts)

Ratios are printed against dict_timer (and prometheus). Numbers go to docs/performance.md with the
machine (nproc, CPU model).
"""
import argparse
import statistics
import threading
import time
import timeit
from collections import defaultdict

import trackiq

try:
    import prometheus_client
except ImportError:  # reported as "not available", never replaced by a number
    prometheus_client = None


class DictTimer:
    """What a server often hand-writes: phase durations in lists, guarded by one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.phases = defaultdict(list)
        self.counters = defaultdict(int)

    class Request:
        def __init__(self, timer, rid):
            self.timer, self.rid = timer, rid

        def __enter__(self):
            self.begin = time.perf_counter_ns()
            return self

        def __exit__(self, *exc):
            d = time.perf_counter_ns() - self.begin
            with self.timer.lock:
                self.timer.phases["request"].append(d)
            return False

        def phase(self, name):
            return DictTimer.Phase(self.timer, name)

    class Phase:
        def __init__(self, timer, name):
            self.timer, self.name = timer, name

        def __enter__(self):
            self.begin = time.perf_counter_ns()
            return self

        def __exit__(self, *exc):
            d = time.perf_counter_ns() - self.begin
            with self.timer.lock:
                self.timer.phases[self.name].append(d)
            return False

    def request(self, rid):
        return DictTimer.Request(self, rid)

    def inc(self, name):
        with self.lock:
            self.counters[name] += 1


def make_variants():
    def empty():
        pass

    timer = DictTimer()

    def dict_timer():
        with timer.request("r") as r:
            with r.phase("preprocess"):
                pass
            with r.phase("forward"):
                pass
            with r.phase("postprocess"):
                pass
            timer.inc("cache_hit")

    t = trackiq.Tracker(service="bench")
    hits = t.counter("cache_hit")

    def tracked():
        with t.request("r") as r:
            with r.phase("preprocess"):
                pass
            with r.phase("forward"):
                pass
            with r.phase("postprocess"):
                pass
            hits.inc()

    variants = {"empty": empty, "dict_timer": dict_timer}
    if prometheus_client is not None:
        reg = prometheus_client.CollectorRegistry()
        req_h = prometheus_client.Histogram("request_seconds", "request", registry=reg)
        phase_h = prometheus_client.Histogram("phase_seconds", "phase", ["phase"], registry=reg)
        pre, fwd, post = (phase_h.labels(p) for p in ("preprocess", "forward", "postprocess"))
        hit_c = prometheus_client.Counter("cache_hit", "hits", registry=reg)

        def prometheus():
            with req_h.time():
                with pre.time():
                    pass
                with fwd.time():
                    pass
                with post.time():
                    pass
                hit_c.inc()

        variants["prometheus"] = prometheus
    variants["trackiq"] = tracked
    return variants, tracked, t


def two_threads(fn, number):
    """(CPU ns, wall ns) per request with two threads each making `number` requests."""
    barrier = threading.Barrier(3)

    def worker():
        barrier.wait()
        for _ in range(number):
            fn()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for th in threads:
        th.start()
    barrier.wait()
    c0, t0 = time.process_time_ns(), time.perf_counter_ns()
    for th in threads:
        th.join()
    return (time.process_time_ns() - c0) / (2 * number), (time.perf_counter_ns() - t0) / (2 * number)


def main():
    ap = argparse.ArgumentParser(description="Per-request overhead of the trackiq Python binding")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--number", type=int, default=20000)
    args = ap.parse_args()
    variants, tracked, tracker = make_variants()
    results = {}
    for name, fn in variants.items():
        fn()  # warm-up: names interned, this thread's slot made
        cpu = [x / args.number * 1e9 for x in
               timeit.repeat(fn, repeat=args.repeat, number=args.number, timer=time.process_time)]
        wall = [x / args.number * 1e9 for x in timeit.repeat(fn, repeat=args.repeat, number=args.number)]
        results[name] = (statistics.median(cpu), min(wall))
    runs = [two_threads(tracked, args.number) for _ in range(args.repeat)]
    results["trackiq_2thr"] = (statistics.median(r[0] for r in runs), min(r[1] for r in runs))
    if prometheus_client is None:
        print("prometheus: not available: prometheus_client is not installed (Debian python3-prometheus-client)")
    print(f"{'variant':<14} {'median CPU ns/req':>18} {'best wall ns/req':>17} {'CPU / dict_timer':>17}")
    base = results["dict_timer"][0]
    for name, (cpu, wall) in results.items():
        print(f"{name:<14} {cpu:>18.0f} {wall:>17.0f} {cpu / base:>17.2f}")
    if "prometheus" in results:
        print(f"trackiq / prometheus (median CPU): {results['trackiq'][0] / results['prometheus'][0]:.2f}")
    print(f"trackiq − empty (median CPU): {results['trackiq'][0] - results['empty'][0]:.0f} ns per request")
    s = tracker.snapshot()
    assert s["requests_completed"] > 0 and tracker.validate() == [], tracker.validate()


if __name__ == "__main__":
    main()
