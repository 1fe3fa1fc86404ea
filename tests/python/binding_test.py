#!/usr/bin/python3
"""Tests of the Python binding (`import trackiq`, python/trackiq_module.cpp).

Run by CTest (label `threads`: Python threads record concurrently) with PYTHONPATH set to the
build tree's python/ folder and TRACKIQ_RESULT_SCHEMA / TRACKIQ_RESULT_VALIDATOR naming
docs/schema/result.schema.json and tests/integration/validate_result.py:

    PYTHONPATH=build/python /usr/bin/python3 tests/python/binding_test.py -v

Timing assertions are against known sleeps with generous bounds (a phase that sleeps 20 ms must
read between 20 ms and 20 ms + 200 ms): they check units and wiring, not speed.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import trackiq

SLACK_MS = 200.0  # scheduling noise allowed above a sleep on a loaded 2-core machine


class RequestsAndPhases(unittest.TestCase):
    def test_phases_are_timed_and_nest(self):
        t = trackiq.Tracker(service="svc")
        with t.request("r1") as r:
            with r.phase("preprocess"):
                time.sleep(0.02)
            with r.phase("forward"):
                with r.phase("matmul"):
                    time.sleep(0.03)
            r.tokens_in = 7
            r.tokens_out = 3
            self.assertEqual(r.tokens_in, 7)
            self.assertEqual(r.tokens_out, 3)
        s = t.snapshot()
        self.assertEqual(s["requests_completed"], 1)
        self.assertEqual(s["requests_failed"], 0)
        self.assertEqual(s["tokens_in"], 7)
        self.assertEqual(s["tokens_out"], 3)
        self.assertEqual(set(s["phases"]), {"preprocess", "forward", "matmul"})
        pre = s["phases"]["preprocess"]["p50"]
        fwd = s["phases"]["forward"]["p50"]
        mm = s["phases"]["matmul"]["p50"]
        self.assertTrue(20.0 <= pre < 20.0 + SLACK_MS, pre)
        self.assertTrue(30.0 <= mm < 30.0 + SLACK_MS, mm)
        self.assertGreaterEqual(fwd, mm * 0.999)  # 3 significant digits
        self.assertGreaterEqual(s["request"]["p50"] * 1.001, pre + fwd)
        rec = t.records()
        self.assertEqual(len(rec), 1)
        self.assertEqual(rec[0]["id"], "r1")
        self.assertTrue(rec[0]["ok"])
        depth = {p["name"]: p["depth"] for p in rec[0]["phases"]}
        self.assertEqual(depth, {"preprocess": 0, "forward": 0, "matmul": 1})
        top = sum(p["duration_ms"] for p in rec[0]["phases"] if p["depth"] == 0)
        self.assertLessEqual(top, rec[0]["latency_ms"])
        self.assertEqual(t.validate(), [])

    def test_an_exception_escaping_the_block_fails_the_request_with_its_type(self):
        t = trackiq.Tracker()
        with self.assertRaises(KeyError):
            with t.request("bad") as r:
                with r.phase("forward"):
                    raise KeyError("no such voice")
        self.assertTrue(r.ended)
        with t.request("explicit") as r:
            r.fail("out of memory", error_class="oom")
        with t.request("fine"):
            pass
        s = t.snapshot()
        self.assertEqual(s["requests_failed"], 2)
        self.assertEqual(s["requests_completed"], 1)
        self.assertEqual(s["errors_by_class"], {"KeyError": 1, "oom": 1})
        self.assertAlmostEqual(s["error_rate"], 2 / 3)
        # The phase that the exception left is still timed.
        self.assertEqual(s["phases"]["forward"]["count"], 1)
        failed = [x for x in t.records() if not x["ok"]]
        self.assertEqual(sorted(x["error_class"] for x in failed), ["KeyError", "oom"])

    def test_ending_a_request_ends_its_open_phases_and_later_calls_raise(self):
        t = trackiq.Tracker()
        r = t.request("r")
        outer = r.phase("outer")
        inner = r.phase("inner")
        r.phase("dropped")  # a phase object dropped at once ends at once (as a C++ temporary)
        self.assertIsNotNone(inner)
        r.end()  # ends inner, then outer, then the request
        r.end()  # twice: nothing
        outer.end()  # after its request: nothing
        with self.assertRaises(RuntimeError):
            r.phase("late")
        with self.assertRaises(RuntimeError):
            r.token()
        s = t.snapshot()
        self.assertEqual(s["phases"]["outer"]["count"], 1)
        self.assertEqual(s["phases"]["inner"]["count"], 1)
        self.assertEqual(s["phases"]["dropped"]["count"], 1)
        self.assertEqual(s["requests_completed"], 1)
        depth = {p["name"]: p["depth"] for p in t.records()[0]["phases"]}
        self.assertEqual(depth, {"dropped": 2, "inner": 1, "outer": 0})

    def test_handles_keep_what_they_point_to_alive(self):
        import gc
        r = trackiq.Tracker().request("orphan")  # only the request holds its tracker
        c = trackiq.Tracker().counter("c")
        p = trackiq.Tracker().request("via-phase").phase("a")  # only the phase holds its request
        gc.collect()
        with r.phase("late"):
            r.token()
        c.inc()
        del p  # ends the phase, then the request it alone held
        r.end()
        gc.collect()

    def test_ending_an_outer_phase_ends_the_ones_inside_it(self):
        t = trackiq.Tracker()
        with t.request("r") as r:
            outer = r.phase("outer")
            inner = r.phase("inner")
            outer.end()
            inner.end()  # already ended with outer: nothing
            with r.phase("after"):
                pass
        depth = {p["name"]: p["depth"] for p in t.records()[0]["phases"]}
        self.assertEqual(depth, {"inner": 1, "outer": 0, "after": 0})

    def test_record_calls_check_their_arguments(self):
        t = trackiq.Tracker()
        with self.assertRaises(TypeError):
            t.request(42)
        with t.request("r") as r:
            with self.assertRaises(TypeError):
                r.phase(b"forward")
            with self.assertRaises(TypeError):
                r.token("three")
            with self.assertRaises(TypeError):
                r.token(1, 2)
            with self.assertRaises(TypeError):
                t.counter("c").inc(1, 2)
            r.token(3)
            t.counter("c").inc(5)
        s = t.snapshot()
        self.assertEqual((s["requests_completed"], s["requests_started"]), (1, 1))  # t.request(42) began nothing
        self.assertEqual(s["tokens_out"], 3)
        self.assertEqual(s["counters"], {"c": 5})
        self.assertEqual(s["phases"], {})

    def test_tokens_give_ttft_and_tpot(self):
        t = trackiq.Tracker()
        with t.request("stream") as r:
            time.sleep(0.03)
            r.first_token()
            for _ in range(4):
                time.sleep(0.01)
                r.token()
        s = t.snapshot()
        ttft = s["ttft"]["p50"]
        self.assertTrue(30.0 <= ttft < 30.0 + SLACK_MS, ttft)
        self.assertEqual(s["tokens_out"], 5)
        self.assertEqual(s["itl"]["count"], 4)
        self.assertTrue(10.0 <= s["tpot"]["p50"] < 10.0 + SLACK_MS, s["tpot"])
        self.assertLessEqual(s["ttft"]["p50"], s["e2el"]["p50"])
        rec = t.records()[0]
        self.assertAlmostEqual(rec["ttft_ms"], ttft, delta=ttft * 0.002)

    def test_output_duration_gives_the_real_time_factor(self):
        t = trackiq.Tracker()
        with t.request("tts") as r:
            time.sleep(0.05)
            r.output_duration(1.0)
        s = t.snapshot()
        self.assertTrue(0.05 <= s["rtf_mean"] < 0.05 + SLACK_MS / 1000, s["rtf_mean"])
        self.assertEqual(t.records()[0]["output_duration_s"], 1.0)
        with t.request("bad") as r:
            with self.assertRaises(ValueError):
                r.output_duration(-1.0)


class Metrics(unittest.TestCase):
    def test_counters_ratio_gauges_and_histograms(self):
        t = trackiq.Tracker()
        hit = t.counter("cache_hit")
        t.ratio("cache_hit_rate", hit, "cache_miss")  # a Counter or a name
        for _ in range(3):
            hit.inc()
        t.counter("cache_miss").inc()
        t.counter("bytes").inc(1000)
        t.gauge("kv_cache_usage").set(0.25)
        g = t.gauge("kv_cache_usage")
        self.assertEqual(g.value, 0.25)
        h = t.histogram("batch_size", unit="1", direction="neutral", description="requests per batch",
                        lowest=1, highest=1024)
        for v in (1, 2, 4, 8):
            h.observe(v)
        reg = t.histogram("rss_peak_bytes")  # from the metric registry
        reg.observe(1 << 20)
        s = t.snapshot()
        self.assertEqual(s["counters"], {"cache_hit": 3, "cache_miss": 1, "bytes": 1000})
        self.assertEqual(s["ratios"], {"cache_hit_rate": 0.75})
        self.assertEqual(s["gauges"], {"kv_cache_usage": 0.25})
        bs = s["histograms"]["batch_size"]
        self.assertEqual((bs["count"], bs["unit"], bs["direction"]), (4, "1", "neutral"))
        self.assertEqual(bs["description"], "requests per batch")
        self.assertAlmostEqual(bs["mean"], 3.75, delta=0.01)
        self.assertEqual(s["histograms"]["rss_peak_bytes"]["unit"], "B")
        with self.assertRaises(ValueError):
            t.histogram("no_such_metric")
        with self.assertRaises(ValueError):
            t.histogram("x", unit="1", direction="sideways")
        self.assertEqual(t.validate(), [])

    def test_snapshot_is_plain_python_and_json_serialisable(self):
        t = trackiq.Tracker(service="svc", percentiles=[50, 99.9])
        with t.request("a") as r:
            with r.phase("p"):
                r.token()
        s = t.snapshot()
        json.dumps(s)  # raises on anything that is not a plain type
        self.assertEqual(s["percentiles"], [50.0, 99.9])
        self.assertIn("p99.9", s["request"])
        self.assertIsNone(trackiq.Tracker().snapshot()["request"])
        self.assertIn(trackiq.Tracker().snapshot()["clock"], ("tsc", "cntvct", "steady_clock"))

    def test_bad_options_are_refused(self):
        with self.assertRaises(ValueError):
            trackiq.Tracker(record_window=0)
        with self.assertRaises(TypeError):
            trackiq.Tracker("positional")  # keyword-only options


class Result(unittest.TestCase):
    def test_to_result_is_the_canonical_document_and_validates_against_the_schema(self):
        t = trackiq.Tracker(service="tts-service")
        for i in range(10):
            with t.request(f"q{i}") as r:
                with r.phase("infer"):
                    r.token()
                    r.token()
                if i == 3:
                    r.fail("boom", "internal")
        doc = t.to_result()
        self.assertEqual(doc["workload"]["model"], "tts-service")
        self.assertEqual(doc["workload"]["backend"], "tracker")
        self.assertEqual(doc["scenario"]["name"], "production")
        text = json.loads(t.to_result_json())  # each call is a new result (a new run id)
        self.assertEqual(text["workload"], doc["workload"])
        self.assertEqual(len(text["run_id"]), 36)
        schema = os.environ.get("TRACKIQ_RESULT_SCHEMA")
        validator = os.environ.get("TRACKIQ_RESULT_VALIDATOR")
        if not schema or not validator:
            self.skipTest("TRACKIQ_RESULT_SCHEMA / TRACKIQ_RESULT_VALIDATOR not set (CTest sets them)")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tracker.json")
            with open(path, "w") as f:
                f.write(t.to_result_json())
            v = subprocess.run(["/usr/bin/python3", validator, schema, path], capture_output=True, text=True)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)


class Threads(unittest.TestCase):
    def test_python_threads_record_concurrently_without_losing_counts(self):
        t = trackiq.Tracker(record_window=1000)
        hits = t.counter("hit")
        n_threads, per_thread = 8, 500
        start = threading.Barrier(n_threads + 1)
        stop_reading = threading.Event()
        snapshots = []

        def worker(k):
            start.wait()
            for i in range(per_thread):
                with t.request(f"t{k}-{i}") as r:
                    with r.phase("forward"):
                        r.token()
                        r.token()
                    hits.inc()
                    if i % 50 == 0:
                        r.fail("sampled failure", "sampled")

        def reader():  # snapshots release the GIL while the workers record
            start.wait()
            while not stop_reading.is_set():
                snapshots.append(t.snapshot())

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
        threads.append(threading.Thread(target=reader))
        for th in threads:
            th.start()
        for th in threads[:-1]:
            th.join()
        stop_reading.set()
        threads[-1].join()
        s = t.snapshot()
        total = n_threads * per_thread
        failed = n_threads * (per_thread // 50)
        self.assertEqual(s["requests_started"], total)
        self.assertEqual(s["requests_failed"], failed)
        self.assertEqual(s["requests_completed"], total - failed)
        self.assertEqual(s["requests_active"], 0)
        self.assertEqual(s["counters"]["hit"], total)
        self.assertEqual(s["phases"]["forward"]["count"], total)
        self.assertEqual(s["tokens_out"], 2 * (total - failed))
        self.assertEqual(len(t.records()), 1000)
        self.assertEqual(t.validate(), [])
        for snap in snapshots:  # read while recording: never more ended than started
            self.assertGreaterEqual(snap["requests_started"],
                                    snap["requests_completed"] + snap["requests_failed"])

    def test_a_request_may_end_on_another_thread(self):
        t = trackiq.Tracker()
        r = t.request("handed-over")
        r.phase("queue").end()
        th = threading.Thread(target=r.end)
        th.start()
        th.join()
        self.assertEqual(t.snapshot()["requests_completed"], 1)


class Resources(unittest.TestCase):
    """Per-request resources (LIB-2): attach_sampler() over this process's real /proc."""

    def test_without_a_sampler_records_have_none_and_the_snapshot_says_why(self):
        t = trackiq.Tracker()
        with t.request("a"):
            pass
        self.assertIsNone(t.records()[0]["resources"])
        res = t.snapshot()["resources"]
        self.assertFalse(res["attached"])
        self.assertIn("attach", res["unavailable"])
        self.assertEqual(res["distributions"], {})

    def test_attached_sampler_gives_each_request_what_it_saw(self):
        t = trackiq.Tracker(service="res")
        left_out = t.attach_sampler(["process"], interval_s=0.01)
        self.assertEqual(left_out, [])  # the process collector reads /proc/self: always there
        with self.assertRaises(ValueError):
            t.attach_sampler(["process"])  # one per tracker
        time.sleep(0.05)  # opening samples before the first request
        ballast = []
        for i in range(3):
            with t.request(f"r{i}"):
                ballast.append(bytearray(8 << 20))  # touched: 8 MiB more RSS each time
                end = time.process_time() + 0.03
                while time.process_time() < end:  # CPU time seen: at least this busy loop's
                    pass
        time.sleep(0.05)  # closing samples after the last request
        t.stop_sampler()
        recs = t.records()
        self.assertEqual(len(recs), 3)
        for rec in recs:
            res = rec["resources"]
            self.assertIsNotNone(res, rec)
            self.assertTrue(res["complete"], res)
            self.assertGreaterEqual(res["samples"], 2)
            self.assertLessEqual(res["window_begin_ns"], rec["begin_ns"])
            self.assertGreaterEqual(res["window_end_ns"], rec["end_ns"])
            self.assertGreater(res["rss_peak_seen_bytes"], len(ballast) * (8 << 20) * 0.5)
            # The busy loop's 30 ms of this process's CPU, within the window (clock ticks: 10 ms).
            self.assertGreaterEqual(res["cpu_time_seen_s"], 0.02)
            self.assertIsNone(res["gpu_proc_mem_peak_seen_bytes"])  # no nvml collector asked for
            self.assertIsNone(res["throttled_seen"])
        snap = t.snapshot()["resources"]
        self.assertTrue(snap["attached"])
        self.assertEqual(snap["requests_attributed"], 3)
        self.assertEqual(snap["requests_pending"], 0)
        self.assertGreater(snap["rows_taken"], 5)
        rss = snap["distributions"]["rss_peak_seen_bytes"]
        self.assertEqual(rss["count"], 3)
        self.assertEqual(rss["max"], max(r["resources"]["rss_peak_seen_bytes"] for r in recs))
        cpu = snap["distributions"]["cpu_time_seen_ms"]
        self.assertAlmostEqual(cpu["min"], min(r["resources"]["cpu_time_seen_s"] for r in recs) * 1e3, places=6)
        self.assertIn("p50", cpu)
        self.assertEqual(t.validate(), [])
        with self.assertRaises(ValueError):
            trackiq.Tracker().attach_sampler(["no-such-collector"])


class Serve(unittest.TestCase):
    """tracker.serve(): the C++ exposition on its own threads, read over loopback."""

    def get(self, url, accept=None):
        import urllib.request
        req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.headers.get("Content-Type"), resp.read().decode()

    def test_serve_exposes_metrics_summary_and_export_and_stops(self):
        t = trackiq.Tracker(service="py-served")
        for i in range(3):
            with t.request(f"r{i}") as r:
                with r.phase("forward"):
                    r.token()
        with t.serve("127.0.0.1:0") as server:
            host, port = server.address.rsplit(":", 1)
            self.assertEqual(host, "127.0.0.1")
            self.assertGreater(int(port), 0)
            base = f"http://{server.address}"
            ctype, text = self.get(base + "/metrics")
            self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
            self.assertIn('trackiq_requests_total{outcome="completed"} 3', text)
            self.assertRegex(text, r'trackiq_tracker_info\{clock="[a-z_]+",service="py-served"')
            # A Prometheus scrape asks for OpenMetrics first and gets it.
            ctype, om = self.get(base + "/metrics", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
            self.assertTrue(ctype.startswith("application/openmetrics-text; version=1.0.0"), ctype)
            self.assertIn("# TYPE trackiq_requests counter", om)
            self.assertTrue(om.endswith("# EOF\n"), om[-40:])
            _, summary = self.get(base + "/metrics/summary")
            self.assertEqual(json.loads(summary)["requests"]["completed"], 3)
            _, export = self.get(base + "/metrics/export")
            self.assertEqual(json.loads(export)["workload"]["model"], "py-served")
        # Stopped: nothing answers any more.
        with self.assertRaises(OSError):
            self.get(base + "/metrics")

    def test_serve_on_a_taken_port_raises_and_a_bad_address_is_a_value_error(self):
        t = trackiq.Tracker()
        first = t.serve("127.0.0.1:0")
        with self.assertRaises(OSError):
            t.serve(first.address)
        with self.assertRaises(ValueError):
            t.serve("no-port-here")
        first.stop()


if __name__ == "__main__":
    print(f"trackiq {trackiq.__version__} from {trackiq.__file__} on {sys.executable}", file=sys.stderr)
    unittest.main()
