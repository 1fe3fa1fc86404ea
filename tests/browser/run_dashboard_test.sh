#!/usr/bin/env bash
# The dashboard of `trackiq serve` end to end in headless Chromium (SRV-3): the built trackiq
# measures 16 short synthetic runs of "detector" (versions 1.0 .. 1.15; from 1.8 on twice as slow:
# a planted step) and 2 of "speech" into a fresh SQLite store, saves a baseline, starts
# `trackiq serve --listen 127.0.0.1:0` on it (telemetry at its default 1 s), and
# check_dashboard.mjs filters, opens a run, compares two, follows the change point and watches
# live telemetry. Screenshots (and FAILED-<step>.png) and the server's log stay in OUT_DIR.
#   run_dashboard_test.sh TRACKIQ OUT_DIR
set -euo pipefail
trackiq=$1
out=$2
repo="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$out"
mkdir -p "$out/shots"
cd "$out"

run() { "$trackiq" run "$1" -d 300ms --warmup 20 --store store.db --product "$2" --version "$3" -q >/dev/null; }
for i in $(seq 0 15); do
  if (( i < 8 )); then run synthetic:mean=2ms,cv=0.05 detector "1.$i"; else run synthetic:mean=4ms,cv=0.05 detector "1.$i"; fi
done
run synthetic:mean=1ms,cv=0.05 speech 2.0
run synthetic:mean=1ms,cv=0.05 speech 2.1
"$trackiq" baseline save nightly --store store.db >/dev/null

"$trackiq" serve --store store.db --listen 127.0.0.1:0 2>serve.log &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true' EXIT
addr=
for _ in $(seq 200); do
  addr=$(sed -n 's#.*listening on http://\(127\.0\.0\.1:[0-9]*\)/api/v1.*#\1#p' serve.log)
  [[ -n $addr ]] && break
  sleep 0.05
done
[[ -n $addr ]] || { cat serve.log; echo "serve did not start"; exit 1; }

# The first slow run (version 1.8): where the change point must be.
regression=$(node -e '
  fetch(process.argv[1]).then((r) => r.json()).then((d) => {
    if (d.runs.length !== 1) { console.error(JSON.stringify(d)); process.exit(1); }
    console.log(d.runs[0].run_id);
  });' "http://$addr/api/v1/runs?product=detector&version=1.8")

rc=0
node "$repo/tests/browser/check_dashboard.mjs" --url "http://$addr" --screenshots shots --regression-run "$regression" || rc=$?
kill $serve_pid 2>/dev/null || true
wait $serve_pid 2>/dev/null || true
if (( rc != 0 )); then
  echo "--- serve.log"; cat serve.log
  echo "dashboard test failed; screenshots in $out/shots"
  exit 1
fi
echo "dashboard test passed; screenshots in $out/shots"
