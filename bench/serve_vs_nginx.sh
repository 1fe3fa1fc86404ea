#!/usr/bin/env bash
# `trackiq serve` under load against nginx serving the same JSON (issue #14, item 4): a SQLite
# store of KEYS x RUNS runs (bench/detect_store_fill), `trackiq serve` on a loopback port, the body
# of GET /api/v1/runs?limit=50 saved to a file that Debian's nginx serves on another port; then
# `trackiq load` (closed loop, CONNECTIONS connections, DURATION s) alternately against each,
# ROUNDS times. Prints each round (requests/s, p50, p99, errors) and the medians, and the ratio
# serve / nginx of requests/s. Both servers and the client share the machine's cores.
#   bench/serve_vs_nginx.sh [BUILD_DIR]   env: ROUNDS=3 DURATION=5 CONNECTIONS=64 KEYS=20 RUNS=50 SERVE_THREADS=2
#     SERVE_ARGS="--cache-mb 0" (more serve flags) SERVE_BIN=path (the serve under test, e.g. an
#     older build's trackiq; `trackiq load` stays BUILD_DIR's) STORE=file (serve a copy of this
#     SQLite store instead of filling one)
set -euo pipefail
build=${1:-build}
trackiq=$build/bin/trackiq
rounds=${ROUNDS:-3}
duration=${DURATION:-5}
connections=${CONNECTIONS:-64}
keys=${KEYS:-20}
runs=${RUNS:-50}
serve_threads=${SERVE_THREADS:-2}
[[ -x $build/bin/detect_store_fill ]] || { echo "$build/bin/detect_store_fill not built (cmake --build $build --target detect_store_fill)" >&2; exit 2; }

tmp=$(mktemp -d)
serve_pid=""
cleanup() {
  [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null || true
  [[ -f $tmp/nginx.pid ]] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
if [[ -n ${STORE:-} ]]; then
  cp "$STORE" "$tmp/store.db"
else
  "$build/bin/detect_store_fill" "$tmp/store.db" "$keys" "$runs" >/dev/null
fi
# shellcheck disable=SC2086  # SERVE_ARGS: several flags
"${SERVE_BIN:-$trackiq}" serve --store "$tmp/store.db" --listen 127.0.0.1:0 --threads "$serve_threads" ${SERVE_ARGS:-} 2> "$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/serve.log" && break; sleep 0.05; done
serve_base=$(sed -n 's|.*listening on \(http://[^/]*\)/api/v1.*|\1|p' "$tmp/serve.log")
[[ -n $serve_base ]] || { cat "$tmp/serve.log"; echo "serve did not start" >&2; exit 1; }
path="/api/v1/runs?limit=50"
mkdir -p "$tmp/www"
curl -sf "$serve_base$path" -o "$tmp/www/runs.json"
. "$(dirname "$0")/local_nginx.sh"
start_local_nginx "$tmp" "$tmp/www"
port=$NGINX_PORT
nginx_url="http://127.0.0.1:$port/runs.json"
cmp <(curl -sf "$nginx_url") "$tmp/www/runs.json"
bytes=$(stat -c %s "$tmp/www/runs.json")

# Prints "requests/s p50_ms p99_ms errors" of one closed-loop run against URL.
run() {
  "$trackiq" load "$1" --concurrency "$connections" --duration "${duration}s" --no-store --json "$tmp/r.json" >/dev/null 2>&1 || true
  python3 - "$tmp/r.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = {k: v["value"] for k, v in d["metrics"].items()}
print(m["request_throughput"], m.get("latency_p50_ms", float("nan")), m.get("latency_p99_ms", float("nan")), d["errors"]["total"])
PY
}
echo "serve (${SERVE_BIN:-$trackiq} ${SERVE_ARGS:-}) $serve_base$path and nginx $nginx_url: the same $bytes-byte JSON; $connections connections, ${duration}s, $rounds rounds; $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
s_rps=(); n_rps=(); s_p99=(); n_p99=(); s_err=0; n_err=0
for i in $(seq "$rounds"); do
  read -r sr sp50 sp99 se < <(run "$serve_base$path")
  read -r nr np50 np99 ne < <(run "$nginx_url")
  printf 'round %d  serve %9.0f req/s p50 %6.2f ms p99 %6.2f ms errors %s | nginx %9.0f req/s p50 %6.2f ms p99 %6.2f ms errors %s\n' \
    "$i" "$sr" "$sp50" "$sp99" "$se" "$nr" "$np50" "$np99" "$ne"
  s_rps+=("$sr"); n_rps+=("$nr"); s_p99+=("$sp99"); n_p99+=("$np99"); s_err=$((s_err + se)); n_err=$((n_err + ne))
done
python3 - "${s_rps[*]}" "${n_rps[*]}" "${s_p99[*]}" "${n_p99[*]}" "$s_err" "$n_err" <<'PY'
import statistics as st, sys
sr, nr, sp, np_ = ([float(x) for x in a.split()] for a in sys.argv[1:5])
print(f"median  serve {st.median(sr):.0f} req/s, p99 {st.median(sp):.2f} ms, {sys.argv[5]} errors | "
      f"nginx {st.median(nr):.0f} req/s, p99 {st.median(np_):.2f} ms, {sys.argv[6]} errors | "
      f"serve/nginx throughput {st.median(sr) / st.median(nr):.3f}, p99 {st.median(sp) / st.median(np_):.2f}x")
PY
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
