#!/usr/bin/python3
"""A python3-psutil sampler reading what TrackIQ's collectors read: the reference for
bench/sampler_bench.cpp (SPEC TEL-2: sampler overhead <= 1 % of one core at 100 ms).

One sample reads, like the TrackIQ collectors available on a machine without GPUs or sensors
(cpu, memory, process, cgroup, psi):
  cpu      psutil.cpu_percent(percpu=True) and psutil.cpu_percent()        (/proc/stat, twice)
           psutil.cpu_freq(percpu=True) only where cpufreq exists, as TrackIQ's cpu collector
  memory   psutil.virtual_memory(), psutil.swap_memory()     (/proc/meminfo; swap adds /proc/vmstat)
  process  Process().memory_info(), .cpu_percent(), .num_threads() in one Process.oneshot()
                                               (/proc/self/statm, /proc/self/stat, /proc/self/status)
  thermal  psutil.sensors_temperatures(), only when it finds a sensor (TrackIQ's thermal
           collector is left out when there is none)
  cgroup   psutil has no cgroup API: plain open/read of the files TrackIQ reads (cpu.stat,
           memory.current, memory.peak, memory.max of this process's cgroup v2)
  psi      psutil has no PSI API: plain open/read of /proc/pressure/{cpu,memory,io}
Set "psutil" is the psutil calls alone; set "full" adds the cgroup and psi reads (the same
metrics as TrackIQ here). The RAPL power, NVML and tegrastats collectors have no psutil
counterpart and are not mirrored.

Two measurements, each repeated --repeats times (median reported):
  tight          samples back to back for --tight-seconds: CPU time of this thread
                 (time.thread_time, user + system) per sample
  interval100ms  samples every --interval s on an absolute schedule for --duration s: this
                 thread's CPU time per sample and as % of one core (cpu_s / wall_s * 100);
                 process_core_pct uses time.process_time instead

Output, one line per case (parsed by bench/run_benchmarks.sh):
    psutil_sampler case=tight set=full cpu_us_per_sample=412.3 min_us=401.2 repeats=5
    psutil_sampler case=interval100ms set=full cpu_us_per_sample=812.0 core_pct=0.81 process_core_pct=0.82 samples=30 repeats=5
and with --json PATH the same figures as JSON.

Run with Debian's interpreter (/usr/bin/python3), which has python3-psutil.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import psutil
except ImportError:
    sys.exit("error: psutil is not importable by %s; install python3-psutil (apt-get install "
             "python3-psutil) and run with /usr/bin/python3" % sys.executable)


def cgroup_dir():
    """This process's cgroup v2 directory, found as TrackIQ's cgroup collector finds it."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    rel = next((l[3:] for l in lines if l.startswith("0::")), None)
    if rel is None:
        return None
    v1_lines = any(l and not l.startswith("0::") for l in lines)
    d = "/sys/fs/cgroup" + rel
    if v1_lines or not os.path.exists(d + "/cgroup.controllers"):
        if os.path.exists("/sys/fs/cgroup/unified" + rel + "/cgroup.procs"):
            d = "/sys/fs/cgroup/unified" + rel
    d = d.rstrip("/")
    return d if os.path.exists(d + "/cpu.stat") else None


def read_number(path):
    try:
        with open(path) as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_keyed(path):
    try:
        with open(path) as f:
            return {k: float(v) for k, v in (line.split() for line in f if line.strip())}
    except (OSError, ValueError):
        return {}


def read_psi(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                kind, *fields = line.split()
                out[kind] = float(next(x[6:] for x in fields if x.startswith("total=")))
    except (OSError, ValueError, StopIteration):
        pass
    return out


class Reader:
    """One sample of every metric in the chosen set; keeps the last values."""

    def __init__(self, full):
        self.proc = psutil.Process()
        self.freq = os.path.exists("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
        self.temps = hasattr(psutil, "sensors_temperatures") and bool(psutil.sensors_temperatures())
        self.cg = cgroup_dir() if full else None
        self.psi = [p for p in ("/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io")
                    if full and os.path.exists(p)]
        self.metrics = ["cpu", "memory", "process"] + (["thermal"] if self.temps else [])
        if self.cg:
            self.metrics.append("cgroup")
        if self.psi:
            self.metrics.append("psi")
        self.last = None
        self.sample()  # the first cpu_percent() calls have no previous sample

    def sample(self):
        v = {"cpu_percpu": psutil.cpu_percent(percpu=True), "cpu_total": psutil.cpu_percent()}
        if self.freq:
            v["cpu_freq"] = psutil.cpu_freq(percpu=True)
        vm, sw = psutil.virtual_memory(), psutil.swap_memory()
        v["mem"] = (vm.total, vm.available, vm.total - vm.available, vm.percent, sw.total, sw.used)
        with self.proc.oneshot():
            v["proc"] = (self.proc.memory_info().rss, self.proc.num_threads(), self.proc.cpu_percent())
        if self.temps:
            v["temps"] = psutil.sensors_temperatures()
        if self.cg:
            v["cgroup"] = (read_keyed(self.cg + "/cpu.stat"), read_number(self.cg + "/memory.current"),
                           read_number(self.cg + "/memory.peak"), read_number(self.cg + "/memory.max"))
        if self.psi:
            v["psi"] = [read_psi(p) for p in self.psi]
        self.last = v


def tight(reader, seconds):
    """CPU µs of this thread per sample, samples back to back for `seconds` of wall time."""
    n = 0
    c0, end = time.thread_time(), time.monotonic() + seconds
    while time.monotonic() < end:
        reader.sample()
        n += 1
    return (time.thread_time() - c0) / n * 1e6, n


def interval_loop(reader, interval, duration):
    """Samples on an absolute schedule t0 + k * interval (late ticks skipped) for `duration` s."""
    n = 0
    c0, p0, t0 = time.thread_time(), time.process_time(), time.monotonic()
    k = 0
    while True:
        reader.sample()
        n += 1
        k += 1
        now = time.monotonic()
        if now - t0 >= duration:
            break
        if now >= t0 + k * interval:
            k = int((now - t0) // interval) + 1
        time.sleep(max(0.0, min(t0 + k * interval, t0 + duration) - time.monotonic()))
    wall = time.monotonic() - t0
    cpu, pcpu = time.thread_time() - c0, time.process_time() - p0
    return {"cpu_us_per_sample": cpu / n * 1e6, "core_pct": cpu / wall * 100,
            "process_core_pct": pcpu / wall * 100, "samples": n, "wall_s": wall}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="repetitions of each case (median reported)")
    ap.add_argument("--tight-seconds", type=float, default=1.0, help="wall time of one tight-loop repetition")
    ap.add_argument("--interval", type=float, default=0.1, help="sampling interval of the paced loop, s")
    ap.add_argument("--duration", type=float, default=3.0, help="length of one paced repetition, s")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args()

    results = []
    readers = {"psutil": Reader(full=False), "full": Reader(full=True)}
    for name, reader in readers.items():
        per = [tight(reader, args.tight_seconds) for _ in range(args.repeats)]
        us = [p[0] for p in per]
        r = {"case": "tight", "set": name, "metrics": reader.metrics,
             "cpu_us_per_sample": statistics.median(us), "min_us": min(us),
             "samples": statistics.median(p[1] for p in per), "repeats": args.repeats}
        results.append(r)
        print(f"psutil_sampler case=tight set={name} cpu_us_per_sample={r['cpu_us_per_sample']:.1f} "
              f"min_us={r['min_us']:.1f} samples={r['samples']:.0f} repeats={args.repeats} "
              f"metrics={','.join(reader.metrics)}", flush=True)

    reader = readers["full"]
    runs = [interval_loop(reader, args.interval, args.duration) for _ in range(args.repeats)]
    r = {"case": f"interval{args.interval * 1e3:.0f}ms", "set": "full", "metrics": reader.metrics,
         "repeats": args.repeats, "interval_s": args.interval, "duration_s": args.duration}
    for key in ("cpu_us_per_sample", "core_pct", "process_core_pct", "samples"):
        r[key] = statistics.median(x[key] for x in runs)
    results.append(r)
    print(f"psutil_sampler case={r['case']} set=full cpu_us_per_sample={r['cpu_us_per_sample']:.1f} "
          f"core_pct={r['core_pct']:.3f} process_core_pct={r['process_core_pct']:.3f} "
          f"samples={r['samples']:.0f} repeats={args.repeats}", flush=True)

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"psutil_version": psutil.__version__,
                       "python_version": sys.version.split()[0],
                       "python": sys.executable,
                       "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
