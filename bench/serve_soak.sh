#!/usr/bin/env bash
# Soak of `trackiq serve` (issue #14, item 4; not in CI): DURATION seconds (default 600) of
# `trackiq load` (closed loop, CONNECTIONS connections) on GET /api/v1/runs?limit=50, while a side
# loop walks the other read routes (a run, a run with samples, its streamed samples, compare,
# history, baselines, telemetry, /metrics, the dashboard, an unknown id). serve's RSS (VmRSS) is
# sampled every INTERVAL s into rss.csv. Passes (exit 0) when, after
# the warm-up (the first WARMUP s, default 10 % of the duration), RSS grows by at most 10 % over its
# value at the end of the warm-up, and no request failed (load's errors, the side loop's non-2xx).
#   bench/serve_soak.sh [BUILD_DIR [OUT_DIR]]   env: DURATION=600 CONNECTIONS=64 INTERVAL=5 WARMUP=
set -euo pipefail
build=${1:-build}
out=${2:-serve-soak}
trackiq=$build/bin/trackiq
duration=${DURATION:-600}
connections=${CONNECTIONS:-64}
interval=${INTERVAL:-5}
warmup=${WARMUP:-$((duration / 10))}
[[ -x $build/bin/detect_store_fill ]] || { echo "$build/bin/detect_store_fill not built" >&2; exit 2; }
mkdir -p "$out"
tmp=$(mktemp -d)
serve_pid=""
side_pid=""
cleanup() {
  [[ -n $side_pid ]] && kill "$side_pid" 2>/dev/null || true
  [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"$build/bin/detect_store_fill" "$tmp/store.db" 20 50 >/dev/null
# One run with per-request samples, for the samples route (the filled runs keep none).
"$trackiq" run 'synthetic:dist=lognormal,mean=1ms,cv=0.3' -d 2s --warmup 100ms --store "$tmp/store.db" \
  --product soak -q >/dev/null
"$trackiq" serve --store "$tmp/store.db" --listen 127.0.0.1:0 2> "$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/serve.log" && break; sleep 0.05; done
base=$(sed -n 's|.*listening on \(http://[^/]*\)/api/v1.*|\1|p' "$tmp/serve.log")
[[ -n $base ]] || { cat "$tmp/serve.log"; exit 1; }
run_ids() { curl -sf "$base/api/v1/runs?$1" | python3 -c 'import json,sys; print(" ".join(r["run_id"] for r in json.load(sys.stdin)["runs"]))'; }
sampled=$(run_ids "limit=1&product=soak")
ids=($(run_ids "limit=2&product=product-0003"))
[[ -n $sampled && ${#ids[@]} -eq 2 ]] || { echo "the seeded store is not as expected" >&2; exit 1; }

# The side loop: every other read route, counting non-2xx answers (the unknown id must be 404).
( bad=0; n=0
  while :; do
    for path in "/api/v1/runs/${ids[0]}" "/api/v1/runs/$sampled?samples=1" "/api/v1/runs/$sampled/samples?format=csv" \
                "/api/v1/compare?base=${ids[1]}&current=${ids[0]}" "/api/v1/history?metric=latency_p99_ms&product=product-0003" \
                "/api/v1/baselines" "/api/v1/telemetry?seconds=60" "/metrics" "/api/v1/openapi.json" \
                "/api/v1/runs?limit=5&product=product-0003" "/"; do
      code=$(curl -s -o /dev/null -w '%{http_code}' "$base$path") || code=000
      [[ $code == 2* ]] || bad=$((bad + 1))
      n=$((n + 1))
    done
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/runs/no-such-run") || code=000
    [[ $code == 404 ]] || bad=$((bad + 1))
    n=$((n + 1))
    echo "$n $bad" > "$tmp/side.count"
    sleep 0.2
  done ) &
side_pid=$!

echo "t_s,rss_kib" > "$out/rss.csv"
"$trackiq" load "$base/api/v1/runs?limit=50" --concurrency "$connections" --duration "${duration}s" --no-store \
  --json "$out/load.json" > "$out/load.txt" 2>&1 &
load_pid=$!
start=$SECONDS
while kill -0 "$load_pid" 2>/dev/null; do
  echo "$((SECONDS - start)),$(awk '/^VmRSS/ {print $2}' "/proc/$serve_pid/status")" >> "$out/rss.csv"
  sleep "$interval"
done
wait "$load_pid" || true
kill "$side_pid" 2>/dev/null || true
side_pid=""
read -r side_n side_bad < "$tmp/side.count"
python3 - "$out/rss.csv" "$out/load.json" "$warmup" "$side_n" "$side_bad" <<'PY'
import csv, json, sys
rows = [(int(r["t_s"]), int(r["rss_kib"])) for r in csv.DictReader(open(sys.argv[1])) if r["rss_kib"]]
warmup = int(sys.argv[3])
d = json.load(open(sys.argv[2]))
m = {k: v["value"] for k, v in d["metrics"].items()}
after = [kib for t, kib in rows if t >= warmup]
ok = True
if len(after) < 2:
    print("too few RSS samples after the warm-up"); sys.exit(1)
ref, peak, last = after[0], max(after), after[-1]
growth = (peak - ref) / ref * 100
print(f"serve RSS: {rows[0][1] / 1024:.1f} MiB at start, {ref / 1024:.1f} MiB after the {warmup} s warm-up, "
      f"peak {peak / 1024:.1f} MiB, end {last / 1024:.1f} MiB: growth {growth:+.1f} % (limit 10 %)")
print(f"load: {m['request_throughput']:.0f} req/s, "
      f"p99 {m.get('latency_p99_ms', float('nan')):.2f} ms, {d['errors']['total']} errors; "
      f"side loop: {sys.argv[4]} requests, {sys.argv[5]} unexpected answers")
ok = growth <= 10 and d["errors"]["total"] == 0 and int(sys.argv[5]) == 0
print("soak:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
