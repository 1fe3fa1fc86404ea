#!/usr/bin/python3
"""A small OpenAI-compatible chat endpoint for tests (POST .../chat/completions).

    openai_stub.py PORT_FILE REQUEST_LOG

Binds 127.0.0.1 on a free port, writes the port to PORT_FILE, and appends every request body to
REQUEST_LOG (one JSON document per line). The requested model picks the behaviour:
  ok       200 with a narrative that quotes the decision and the number of findings it was sent
  slow     answers after 5 s (for timeouts)
  error    HTTP 500 with a JSON error
  garbage  200 with a body that is not JSON
  empty    200 with choices: []
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(sys.argv[2], "a") as log:
            log.write(json.dumps({"path": self.path, "body": body.decode()}) + "\n")
        try:
            req = json.loads(body)
        except ValueError:
            return self.reply(400, b'{"error": {"message": "bad json"}}')
        model = req.get("model", "")
        if not self.path.endswith("/chat/completions"):
            return self.reply(404, b'{"error": {"message": "not found"}}')
        if model == "slow":
            time.sleep(5)
        if model == "error":
            return self.reply(500, b'{"error": {"message": "model crashed"}}')
        if model == "garbage":
            return self.reply(200, b"<html>surprise</html>")
        if model == "empty":
            return self.reply(200, b'{"choices": []}')
        facts = json.loads(req["messages"][1]["content"])
        text = "Stub narrative: decision %s with %d findings." % (facts["decision"], len(facts["findings"]))
        answer = {"id": "stub", "object": "chat.completion", "model": model,
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
        self.reply(200, json.dumps(answer).encode())

    def reply(self, code, data):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402  (rename makes the port file appear complete)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
