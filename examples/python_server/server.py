#!/usr/bin/python3
"""A small threaded inference server instrumented with TrackIQ's Python binding (issue #15, item 7).

It runs a real PyTorch model (a byte-level MLP language model made in code with a fixed seed; no
download) behind an OpenAI-compatible streaming endpoint, and records every request with
`trackiq.Tracker`: phases `preprocess` (parse, tokenize, prompt-cache lookup), `forward` (the
model: prefill and the decode loop, which streams each token as it is made) and `postprocess`
(the usage chunk and the end of the stream), the first token (TTFT), every token, and the prompt
cache's hits and misses (a ratio in the snapshot).

    PYTHONPATH=build/python /usr/bin/python3 examples/python_server/server.py --port 8000
    trackiq load http://127.0.0.1:8000 --api openai-chat --model mlp --concurrency 4 --duration 10s
    curl -s http://127.0.0.1:8000/metrics/summary      # the tracker's snapshot (JSON)
    curl -s http://127.0.0.1:8000/metrics/export       # the canonical result (trackiq import / store)

With `--metrics-listen 127.0.0.1:9102` the tracker's own C++ server (Tracker.serve(), on its own
threads) also serves Prometheus's /metrics (and /metrics/summary, /metrics/export) there.

Endpoints:
  POST /v1/chat/completions   {"messages": [...], "max_tokens": N, "stream": true|false}; streamed as
                              SSE chat.completion.chunk events (role chunk, one chunk per token, a
                              usage chunk when stream_options.include_usage, "data: [DONE]")
  GET  /metrics/summary       Tracker.snapshot() as JSON, with "violations": Tracker.validate()
  GET  /metrics/export        Tracker.to_result_json(): the canonical result of the window
  GET  /healthz               200 "ok"  (every GET route answers HEAD too)
Prometheus's /metrics is on --metrics-listen HOST:PORT (Tracker.serve()), not on this port.

Needs Debian's python3-torch (`bash scripts/setup.sh`) and the binding (PYTHONPATH=build/python
in a build tree; installed: `cmake --install build`, Debian's python3 finds it under
/usr/local/lib/python3.11/dist-packages).
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch

import trackiq

VOCAB = 256  # bytes


class ByteMLP(torch.nn.Module):
    """A byte-level language model: a running state updated by an MLP block per token."""

    def __init__(self, dim=256, hidden=1024):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, dim)
        self.block = torch.nn.Sequential(torch.nn.LayerNorm(dim), torch.nn.Linear(dim, hidden), torch.nn.GELU(),
                                         torch.nn.Linear(hidden, dim))
        self.head = torch.nn.Linear(dim, VOCAB)

    def prefill(self, prompt_ids):
        state = self.embed(prompt_ids).mean(dim=0)
        return state + self.block(state)

    def step(self, state):
        """The next byte (greedy) and the state after it."""
        token = int(torch.argmax(self.head(state)))
        state = state + self.embed(torch.tensor(token))
        return token, state + self.block(state)


def printable(token):
    return chr(32 + token % 95)  # every byte id shown as printable ASCII


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, model, tracker, max_tokens_cap):
        super().__init__(address, Handler)
        self.model = model
        self.tracker = tracker
        self.max_tokens_cap = max_tokens_cap
        self.cache_hit = tracker.counter("prompt_cache_hit")
        self.cache_miss = tracker.counter("prompt_cache_miss")
        tracker.ratio("prompt_cache_hit_rate", self.cache_hit, self.cache_miss)
        self.cache = {}  # prompt bytes → prefill state, bounded
        self.cache_lock = threading.Lock()
        self.ids = 0
        self.ids_lock = threading.Lock()

    def next_id(self):
        with self.ids_lock:
            self.ids += 1
            return f"chatcmpl-{self.ids}"


class BadRequest(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as `trackiq load` expects
    disable_nagle_algorithm = True  # each SSE event leaves at once (TTFT)

    def log_message(self, *args):
        pass

    # ---- metrics ----
    def do_GET(self):
        t = self.server.tracker
        if self.path == "/metrics/summary":
            doc = t.snapshot()
            doc["violations"] = t.validate()
            self.reply(200, json.dumps(doc).encode(), "application/json")
        elif self.path == "/metrics/export":
            self.reply(200, t.to_result_json().encode(), "application/json")
        elif self.path == "/healthz":
            self.reply(200, b"ok\n", "text/plain")
        else:
            self.reply(404, b'{"error": {"message": "not found"}}', "application/json")

    def do_HEAD(self):
        """GET's status and headers, Content-Length included, without the body (RFC 9110 9.3.2)."""
        self.head_only = True
        try:
            self.do_GET()
        finally:
            self.head_only = False

    # ---- inference ----
    def do_POST(self):
        try:
            self.generate()
        except ConnectionError:  # the client left mid-stream: the tracker counted it failed, by class
            self.close_connection = True

    def generate(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/chat/completions":
            return self.reply(404, b'{"error": {"message": "not found"}}', "application/json")
        srv = self.server
        rid = srv.next_id()
        # Begins when the request has been read; a failure inside marks it failed by its class.
        with srv.tracker.request(rid) as r:
            try:
                with r.phase("preprocess"):
                    prompt, max_tokens, stream, usage = self.parse(body)
                    ids = torch.tensor(list(prompt.encode("utf-8")) or [0], dtype=torch.long)
                    r.tokens_in = len(ids)
                    with srv.cache_lock:
                        cached = srv.cache.get(prompt)
                    (srv.cache_hit if cached is not None else srv.cache_miss).inc()
            except BadRequest as e:
                r.fail(str(e), "bad_request")
                return self.reply(400, json.dumps({"error": {"message": str(e)}}).encode(), "application/json")
            if stream:
                self.start_stream(rid)
            text = []
            with r.phase("forward"), torch.inference_mode():
                state = cached if cached is not None else srv.model.prefill(ids)
                if cached is None:
                    with srv.cache_lock:
                        if len(srv.cache) >= 1024:
                            srv.cache.pop(next(iter(srv.cache)))
                        srv.cache[prompt] = state
                for _ in range(max_tokens):
                    token, state = srv.model.step(state)
                    text.append(printable(token))
                    if stream:
                        r.token()  # stamped before the write: the client sees it later
                        self.event(self.chunk(rid, {"content": text[-1]}))
            with r.phase("postprocess"):
                r.tokens_out = len(text)
                counts = {"prompt_tokens": len(ids), "completion_tokens": len(text),
                          "total_tokens": len(ids) + len(text)}
                if stream:
                    last = self.chunk(rid, {}, finish="length")
                    if usage:
                        last += self.sse({"id": rid, "object": "chat.completion.chunk", "created": int(time.time()),
                                          "model": "mlp", "choices": [], "usage": counts})
                    self.event(last + b"data: [DONE]\n\n", final=True)
                else:
                    answer = {"id": rid, "object": "chat.completion", "created": int(time.time()), "model": "mlp",
                              "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(text)},
                                           "finish_reason": "length"}], "usage": counts}
                    self.reply(200, json.dumps(answer).encode(), "application/json")

    def parse(self, body):
        try:
            req = json.loads(body)
            messages = req["messages"]
            prompt = "\n".join(str(m.get("content", "")) for m in messages)
            max_tokens = int(req.get("max_tokens") or req.get("max_completion_tokens") or 16)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise BadRequest(f"bad request body: {e}") from None
        if max_tokens < 1:
            raise BadRequest(f"max_tokens {max_tokens}: must be >= 1")
        usage = bool((req.get("stream_options") or {}).get("include_usage"))
        return prompt, min(max_tokens, self.server.max_tokens_cap), bool(req.get("stream")), usage

    # ---- HTTP helpers ----
    @staticmethod
    def sse(obj):
        return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"

    def chunk(self, rid, delta, finish=None):
        return self.sse({"id": rid, "object": "chat.completion.chunk", "created": int(time.time()), "model": "mlp",
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    def start_stream(self, rid):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.event(self.chunk(rid, {"role": "assistant", "content": ""}))

    def event(self, data, final=False):
        """One HTTP chunk in one write (the terminator joins the last one)."""
        out = b"%x\r\n%s\r\n" % (len(data), data)
        if final:
            out += b"0\r\n\r\n"
        self.wfile.write(out)

    def reply(self, code, data, content_type):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not getattr(self, "head_only", False):
            self.wfile.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000, help="0: a free port (see --port-file)")
    ap.add_argument("--port-file", help="write the bound port here (atomically) once listening")
    ap.add_argument("--service", default="python-mlp-server", help="the tracker's service name (the result's model)")
    ap.add_argument("--max-tokens-cap", type=int, default=64, help="most tokens one request generates")
    ap.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads (default 1: one core "
                    "per request thread)")
    ap.add_argument("--metrics-listen", metavar="HOST:PORT",
                    help="also serve Prometheus /metrics (and /metrics/summary, /metrics/export) here from the "
                    "tracker's own C++ server (port 0: a free one; the address is printed)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.torch_threads)
    model = ByteMLP().eval()
    tracker = trackiq.Tracker(service=args.service)
    server = Server((args.host, args.port), model, tracker, args.max_tokens_cap)
    metrics = None
    if args.metrics_listen:
        try:
            metrics = tracker.serve(args.metrics_listen)
        except (OSError, ValueError) as e:
            sys.exit(f"--metrics-listen {args.metrics_listen}: {e}")
        print(f"metrics on http://{metrics.address}/metrics", file=sys.stderr, flush=True)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(args.port_file + ".tmp", args.port_file)
    print(f"serving on http://{args.host}:{port} (trackiq {trackiq.__version__}, torch {torch.__version__})",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if metrics is not None:
            metrics.stop()


if __name__ == "__main__":
    main()
