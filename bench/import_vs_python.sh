#!/usr/bin/env bash
# Import throughput against Python's json and csv modules on the same files, in the same run
# (SPEC §4: >= 100 MB/s for CSV/JSON ingestion; docs/performance.md §11).
#
#   bench/import_vs_python.sh BUILD_DIR [ROWS]     (ROWS default 1000000)
#
# Writes three files under $BUILD_DIR/bench-results/import/ (a CSV of ROWS requests, a JSON
# {"results": [...]} of ROWS objects, ROWS k6 --out json points), runs BUILD_DIR/bin/import_bench
# on them, then /usr/bin/python3 parsing the same bytes (json.loads, csv.reader + float(), one
# json.loads per k6 line), median of 5, and prints both in MB/s.
set -euo pipefail
readonly PYTHON=/usr/bin/python3
[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [ROWS]" >&2; exit 2; }
build_dir=$1
rows=${2:-1000000}
out=${TRACKIQ_BENCH_OUT:-$build_dir/bench-results}/import
mkdir -p "$out"
[[ -x $build_dir/bin/import_bench ]] || { echo "$build_dir/bin/import_bench: build the import_bench target" >&2; exit 2; }
"$PYTHON" - "$out" "$rows" <<'PY'
import random, sys, json
out, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
with open(f"{out}/requests.csv", "w") as f:
    f.write("id,timestamp,duration,status,rps\n")
    for i in range(n):
        f.write(f"{i},{1700000000 + i * 0.001:.3f},{rnd.lognormvariate(1, 0.5):.4f},200,{rnd.uniform(90, 110):.2f}\n")
with open(f"{out}/results.json", "w") as f:
    f.write('{"tool": "synthetic", "results": [\n')
    f.write(",\n".join(f'  {{"id": {i}, "latency": {rnd.lognormvariate(1, 0.5):.4f}, "ok": true}}' for i in range(n)))
    f.write("\n]}\n")
with open(f"{out}/points.jsonl", "w") as f:
    for i in range(n):
        f.write('{"type":"Point","data":{"time":"2024-01-01T00:00:%02d.%06dZ","value":%.4f,"tags":{"status":"200"}},"metric":"http_req_duration"}\n'
                % (i // 1000000 % 60, i % 1000000, rnd.lognormvariate(1, 0.5)))
PY
echo "== trackiq import_text (median of 5)"
"$build_dir/bin/import_bench" "$out/requests.csv" "$out/results.json" "$out/points.jsonl" 5 | tee "$out/trackiq.json"
echo "== Python $("$PYTHON" -c 'import sys; print(sys.version.split()[0])') json / csv (median of 5)"
"$PYTHON" - "$out" <<'PY' | tee "$out/python.json"
import csv, io, json, statistics, sys, time
out = sys.argv[1]
def bench(name, path, fn):
    text = open(path, encoding="utf-8").read()
    size = len(text.encode())
    rates = []
    for _ in range(5):
        t0 = time.perf_counter(); n = fn(text); rates.append(size / 1e6 / (time.perf_counter() - t0))
    print(json.dumps({"case": name, "bytes": size, "values": n, "median_mb_s": round(statistics.median(rates), 1)}))
def csv_fn(text):
    r = csv.reader(io.StringIO(text)); h = next(r); k = h.index("duration")
    return len([float(row[k]) for row in r])
def json_fn(text):
    return len([float(x["latency"]) for x in json.loads(text)["results"]])
def jsonl_fn(text):
    return len([json.loads(l)["data"]["value"] for l in text.splitlines() if l])
bench("csv.reader + float(duration)", f"{out}/requests.csv", csv_fn)
bench("json.loads + [x['latency']]", f"{out}/results.json", json_fn)
bench("json.loads per k6 line", f"{out}/points.jsonl", jsonl_fn)
PY
