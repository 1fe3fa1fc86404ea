#!/usr/bin/env bash
# `trackiq load` against wrk (LOAD-7): Debian's nginx on a loopback port serves a 13-byte file;
# wrk and trackiq load run alternately with the same connections, threads and duration, ROUNDS
# times each; prints each round and the medians, and the ratio trackiq / wrk of requests/s.
# Client CPU per request is measured for both (wrk: user + system time of the process / requests;
# trackiq: its client_cpu_per_request_ms, the process's CPU from the first send to the last
# completion, without start-up and result processing).
# trackiq's closed loop runs its threads SCHED_BATCH (--client-sched auto); each round also runs
# wrk under `chrt -b 0` (WRK_BATCH=0 leaves it out), the like-for-like comparison of the engines.
# Then an open-loop point at RATE req/s: achieved rate, p99 schedule lag, client CPU per request.
#   bench/load_vs_wrk.sh [TRACKIQ]  env: ROUNDS=5 DURATION=5 CONNECTIONS=64 THREADS=2 RATE=20000 WRK_BATCH=1
set -euo pipefail
trackiq=${1:-build/bin/trackiq}
rounds=${ROUNDS:-5}
duration=${DURATION:-5}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
rate=${RATE:-20000}
wrk_batch=${WRK_BATCH:-1}
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 2; }

tmp=$(mktemp -d)
trap '[[ -f $tmp/nginx.pid ]] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/www"
printf 'hello, world\n' > "$tmp/www/small.txt"
. "$(dirname "$0")/local_nginx.sh"
start_local_nginx "$tmp" "$tmp/www"
port=$NGINX_PORT
url="http://127.0.0.1:$port/small.txt"

metric() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(next(m['value'] for n,m in d['metrics'].items() if n==sys.argv[2]))" "$@"; }
# Runs wrk ("$@" is the command line); prints "requests/s client-CPU-us-per-request".
wrk_run() {
  { TIMEFORMAT='%U %S'; time "$@" > "$tmp/wrk.txt"; } 2> "$tmp/wrk.time"
  python3 - "$tmp/wrk.txt" "$tmp/wrk.time" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
user, system = (float(x) for x in open(sys.argv[2]).read().split())
n = int(re.search(r"(\d+) requests in", out).group(1))
print(re.search(r"Requests/sec:\s*([0-9.]+)", out).group(1), 1e6 * (user + system) / n)
PY
}
wrk_rps=()
tq_rps=()
bwrk_rps=()
wrk_cpu=()
tq_cpu=()
bwrk_cpu=()
echo "nginx on $url; $connections connections, $threads threads, ${duration}s per run, $rounds rounds"
for i in $(seq "$rounds"); do
  read -r w wc < <(wrk_run wrk -t"$threads" -c"$connections" -d"${duration}s" "$url")
  "$trackiq" load "$url" --concurrency "$connections" --threads "$threads" --duration "${duration}s" --no-store \
    --json "$tmp/tq.json" > "$tmp/tq.txt"
  t=$(metric "$tmp/tq.json" request_throughput)
  tc=$(python3 -c "print(1000*$(metric "$tmp/tq.json" client_cpu_per_request_ms))")
  wrk_rps+=("$w")
  tq_rps+=("$t")
  wrk_cpu+=("$wc")
  tq_cpu+=("$tc")
  b=""
  if [[ $wrk_batch == 1 ]]; then
    read -r b bc < <(wrk_run chrt -b 0 wrk -t"$threads" -c"$connections" -d"${duration}s" "$url")
    bwrk_rps+=("$b")
    bwrk_cpu+=("$bc")
  fi
  printf 'round %d: wrk %10.0f req/s (%.2f us CPU/req)   trackiq %10.0f req/s (%.2f us CPU/req)   ratio %.3f%s\n' \
    "$i" "$w" "$wc" "$t" "$tc" "$(python3 -c "print($t/$w)")" "${b:+$(printf '   wrk under chrt -b %10.0f req/s (%.2f us CPU/req)' "$b" "$bc")}"
done
python3 - "${wrk_rps[*]}" "${tq_rps[*]}" "${bwrk_rps[*]}" "${wrk_cpu[*]}" "${tq_cpu[*]}" "${bwrk_cpu[*]}" <<'PY'
import statistics, sys
w = [float(x) for x in sys.argv[1].split()]
t = [float(x) for x in sys.argv[2].split()]
b = [float(x) for x in sys.argv[3].split()]
wc = [float(x) for x in sys.argv[4].split()]
tc = [float(x) for x in sys.argv[5].split()]
bc = [float(x) for x in sys.argv[6].split()]
ratios = [y / x for x, y in zip(w, t)]
print(f"median: wrk {statistics.median(w):.0f} req/s, trackiq {statistics.median(t):.0f} req/s; "
      f"ratio of medians {statistics.median(t) / statistics.median(w):.3f}, median of round ratios {statistics.median(ratios):.3f}")
print(f"client CPU per request: wrk {statistics.median(wc):.2f} us, trackiq {statistics.median(tc):.2f} us "
      f"(requests per client-core-second: trackiq / wrk {statistics.median(wc) / statistics.median(tc):.3f})")
if b:
    print(f"like for like: wrk under chrt -b {statistics.median(b):.0f} req/s; trackiq / that: ratio of medians "
          f"{statistics.median(t) / statistics.median(b):.3f}, median of round ratios {statistics.median(y / x for x, y in zip(b, t)):.3f}; "
          f"its client CPU per request {statistics.median(bc):.2f} us")
PY

"$trackiq" load "$url" --rate "$rate" --arrival constant --threads "$threads" --duration "${duration}s" --no-store \
  --json "$tmp/open.json" > "$tmp/open.txt"
printf 'open loop at %s req/s: achieved %.0f req/s, p99 schedule lag %.3f ms, late sends %.2f %%, client CPU %.1f us/request\n' \
  "$rate" "$(metric "$tmp/open.json" request_throughput)" "$(metric "$tmp/open.json" schedule_lag_p99_ms)" \
  "$(python3 -c "print(100*$(metric "$tmp/open.json" late_send_fraction))")" \
  "$(python3 -c "print(1000*$(metric "$tmp/open.json" client_cpu_per_request_ms))")"
