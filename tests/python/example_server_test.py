#!/usr/bin/python3
"""examples/python_server driven by `trackiq load`: the tracker inside the server and the load
generator outside it must agree (issue #15, LIB-4 and item 7).

    example_server_test.py TRACKIQ_BIN SERVER_PY [SCHEMA VALIDATOR]

Starts the server (Debian's python3, PyTorch model, PYTHONPATH naming the built binding) on
127.0.0.1 port 0, runs a closed loop of `trackiq load --api openai-chat` against it (4 in
flight, 4 s, 24 tokens each), reads the server's /metrics/summary and /metrics/export, and checks:

  1. counts: the tracker's completed requests = load's completed (queries_total), no failures
     on either side; the tracker's output tokens = 24 × completed.
  2. phases: preprocess, forward and postprocess each have a positive median, and the sum of
     their means is at most the mean request latency (each request's top-level phases fit in
     it; 0.2 % allowed for the histograms' 3 significant digits); the server's validate()
     (which checks every kept record's phases against its latency) reports nothing.
  3. TTFT: the tracker starts the clock after reading the request and stamps a token before
     writing it, so each request's server-side TTFT is at most the client's. Bounds:
        tracker median ≤ load median × 1.002 + 0.5 ms   (histogram resolution and how the two
                                                       define a median of an even count)
        load median − tracker median < 50 ms           (what loopback and the client may add)
     and the same two bounds for the request latency (tracker request p50 vs load latency_p50_ms).
  4. /metrics/export is a canonical result that validates against the schema.
  5. Prometheus /metrics from --metrics-listen 127.0.0.1:0 (Tracker.serve()), scraped once:
     trackiq_requests_total{outcome="completed"} = load's completed.

Exit 0 when all hold; otherwise prints each failed check and exits 1.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKENS = 24
CONCURRENCY = 4
MAX_CLIENT_EXTRA_MS = 50.0

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def metric(result, name):
    if name not in result["metrics"]:
        raise KeyError(f"load's result has no metric {name}")
    return result["metrics"][name]["value"]


def head_then_get(host, port, path):
    """HEAD, then GET on the same keep-alive connection: a body sent after the HEAD's headers would
    be read as the GET's answer. Returns (path, HEAD status, its Content-Length, GET status, GET body)."""
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("HEAD", path)
        head = conn.getresponse()
        head.read()
        conn.request("GET", path)
        got = conn.getresponse()
        return path, head.status, head.getheader("Content-Length"), got.status, got.read()
    finally:
        conn.close()


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
        return json.loads(resp.read())


def main():
    trackiq_bin, server_py = sys.argv[1], sys.argv[2]
    schema, validator = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else (None, None)
    with tempfile.TemporaryDirectory() as d:
        port_file = os.path.join(d, "port")
        log = open(os.path.join(d, "server.log"), "w+")
        server = subprocess.Popen(["/usr/bin/python3", server_py, "--port", "0", "--port-file", port_file,
                                   "--metrics-listen", "127.0.0.1:0"],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not os.path.exists(port_file):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    sys.exit(f"the server did not start (exit {server.poll()}):\n{log.read()}")
                time.sleep(0.05)
            port = int(open(port_file).read())
            log.seek(0)  # the metrics address is printed before the port file is written
            m = re.search(r"metrics on http://(\S+)/metrics", log.read())
            if not m:
                sys.exit("the server printed no --metrics-listen address")
            metrics_address = m.group(1)
            out = os.path.join(d, "load.json")
            cmd = [trackiq_bin, "load", f"http://127.0.0.1:{port}", "--api", "openai-chat", "--model", "mlp",
                   "--max-tokens", str(TOKENS), "--concurrency", str(CONCURRENCY), "--duration", "4s",
                   "--json", out, "--store", os.path.join(d, "runs.db")]
            print("$ " + " ".join(cmd), flush=True)
            load = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            print(load.stdout[-3000:], load.stderr[-3000:], flush=True)
            if load.returncode != 0:
                sys.exit(f"trackiq load exited {load.returncode}")
            result = json.load(open(out))
            s = get(port, "/metrics/summary")
            export_path = os.path.join(d, "export.json")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics/export", timeout=30) as resp:
                open(export_path, "wb").write(resp.read())
            with urllib.request.urlopen(f"http://{metrics_address}/metrics", timeout=30) as resp:
                prom_type, prom_text = resp.headers.get("Content-Type"), resp.read().decode()
            heads = [head_then_get("127.0.0.1", port, "/healthz"), head_then_get(*metrics_address.rsplit(":", 1), "/metrics")]
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.seek(0)
            server_log = log.read()

        completed = int(metric(result, "queries_total"))
        errors = int(metric(result, "errors_total"))
        print(f"load: {completed} completed, {errors} errors; tracker: {s['requests_completed']} completed, "
              f"{s['requests_failed']} failed, {s['requests_active']} active")
        check(completed > 20, f"load completed enough requests to compare medians ({completed} > 20)")
        check(errors == 0, f"load saw no errors ({errors})")
        check(s["requests_completed"] == completed,
              f"tracker completed {s['requests_completed']} == load completed {completed}")
        check(s["requests_failed"] == 0, f"tracker failed {s['requests_failed']} == 0 ({s['errors_by_class']})")
        check(s["tokens_out"] == TOKENS * completed, f"tracker tokens_out {s['tokens_out']} == {TOKENS} x {completed}")

        phases = s["phases"]
        check(set(phases) == {"preprocess", "forward", "postprocess"}, f"phases {sorted(phases)}")
        for name in ("preprocess", "forward", "postprocess"):
            if name in phases:
                check(phases[name]["p50"] > 0 and phases[name]["count"] == completed,
                      f"{name}: median {phases[name]['p50']:.4f} ms > 0, count {phases[name]['count']}")
        phase_sum = sum(p["mean"] for p in phases.values())
        check(phase_sum <= s["request"]["mean"] * 1.002,
              f"sum of phase means {phase_sum:.3f} ms <= mean request latency {s['request']['mean']:.3f} ms")
        check(s["violations"] == [], f"server validate(): {s['violations']}")
        check(s["ratios"].get("prompt_cache_hit_rate", -1) >= 0.9,
              f"prompt cache hit rate {s['ratios'].get('prompt_cache_hit_rate')} >= 0.9 (one prompt repeated)")

        for what, tracker_ms, load_ms in (("TTFT", s["ttft"]["p50"], metric(result, "median_ttft_ms")),
                                          ("latency", s["request"]["p50"], metric(result, "latency_p50_ms"))):
            print(f"{what} median: tracker {tracker_ms:.3f} ms, load {load_ms:.3f} ms, "
                  f"client adds {load_ms - tracker_ms:.3f} ms")
            check(tracker_ms <= load_ms * 1.002 + 0.5,
                  f"{what}: tracker median {tracker_ms:.3f} ms <= load median {load_ms:.3f} ms (x1.002 + 0.5 ms)")
            check(load_ms - tracker_ms < MAX_CLIENT_EXTRA_MS,
                  f"{what}: load median - tracker median = {load_ms - tracker_ms:.3f} ms < {MAX_CLIENT_EXTRA_MS} ms")

        if schema and validator:
            v = subprocess.run(["/usr/bin/python3", validator, schema, export_path], capture_output=True, text=True)
            check(v.returncode == 0, f"/metrics/export validates against the schema {v.stdout}{v.stderr}")
        m = re.search(r'^trackiq_requests_total\{outcome="completed"\} (\S+)$', prom_text, re.M)
        scraped = float(m.group(1)) if m else None
        check(prom_type.startswith("text/plain") and scraped == completed,
              f"Prometheus /metrics ({prom_type}): trackiq_requests_total{{outcome=\"completed\"}} {scraped} == {completed}")
        export = json.load(open(export_path))
        check(export["workload"]["backend"] == "tracker", "/metrics/export is the tracker's result")
        # /healthz is fixed, so its lengths must agree; /metrics changes between two scrapes, so its
        # GET must only parse as a whole exposition (a HEAD body would have been read in its place).
        for (path, head_status, length, get_status, body), starts in zip(heads, (b"ok\n", b"# HELP ")):
            check(head_status == 200 and get_status == 200 and length is not None and int(length) > 0
                  and body.startswith(starts) and (path != "/healthz" or length == str(len(body))),
                  f"HEAD {path}: {head_status}, Content-Length {length}; the GET after it on the same connection: "
                  f"{get_status}, {len(body)} bytes starting {body[:12]!r}")

        if failures:
            print(f"{len(failures)} check(s) failed; server log:\n{server_log[-4000:]}")
            sys.exit(1)
        print("all checks passed")


if __name__ == "__main__":
    main()
