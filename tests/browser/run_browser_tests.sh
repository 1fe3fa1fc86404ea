#!/usr/bin/env bash
# The HTML and PDF reports of real runs, in a real browser (REP-2, REP-3): the built trackiq
# measures three short runs (batch 1, 2, 4, with telemetry and raw samples) and one without
# samples, writes a single-run, a several-run (trade-off over batch size, dark theme), a
# comparison and a no-samples report, and check_report.mjs opens each in headless Chromium
# offline (no console errors, every chart drawn, theme switch). Then a PDF is printed and its
# first page rendered with pdftoppm must not be blank, and a missing Chromium must be a clear
# error (exit 2). An LLM serving sweep (`trackiq load --api openai-chat --concurrency 1,2,4,8`
# against trackiq_ref_server) must lead with its TTFT/TPOT/E2EL/tokens/goodput cards and draw
# TTFT and TPOT against the concurrency; the comparison's tables must fit a 1,400 px window; and
# the sweep's PDF must have no near-empty page. Screenshots and reports stay in OUT_DIR.
#   run_browser_tests.sh TRACKIQ REF_SERVER OUT_DIR
set -euo pipefail
trackiq=$1
ref_server=$2
out=$3
repo="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$out"
mkdir -p "$out/shots"
cd "$out"

run() { "$trackiq" run -d 1s --warmup 100ms --no-store --product detector -q "$@"; }
run --version 1.0 --json b1.json --include-samples
run --version 1.1 -b 2 --json b2.json --include-samples
run --version 1.2 -b 4 --json b4.json --include-samples
run --version 1.0 --json summary_only.json   # no raw samples: no distribution charts

"$trackiq" report b1.json -o single.html --title "single run" >/dev/null
"$trackiq" report b1.json b2.json b4.json -o sweep.html --theme dark --title "batch sweep" >/dev/null
"$trackiq" report summary_only.json -o summary_only.html >/dev/null
rc=0
"$trackiq" compare b1.json b2.json --report comparison.html >/dev/null || rc=$?
[[ $rc -le 1 ]] || { echo "compare failed with exit $rc"; exit 1; }
for f in single sweep summary_only comparison; do
  [[ -s ${f}_data.json && -s ${f}_data.csv ]] || { echo "$f: the data files are missing"; exit 1; }
done
grep -q '"regression\|"metrics"' comparison_data.json

check="$repo/tests/browser/check_report.mjs"
node "$check" --screenshots shots --expect-charts histogram,cdf,box,timeline single.html
node "$check" --screenshots shots --expect-charts histogram,cdf,box,timeline,bars,tradeoff sweep.html
node "$check" --screenshots shots --expect-charts histogram,cdf,bars comparison.html
node "$check" --screenshots shots summary_only.html

# An LLM serving sweep, measured against the reference server (TTFT 20 ms, then 8 tokens 2 ms
# apart), in its own store so the reports name its four points by run id.
"$ref_server" --port-file port --ttft-ms 20 --itl-ms 2 --tokens 8 >/dev/null &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
rc=0
"$trackiq" load "http://127.0.0.1:$(cat port)/" --api openai-chat --model m --concurrency 1,2,4,8 --requests 16 \
  --slo ttft=500ms,tpot=100ms --store llm.db >load.txt 2>&1 || rc=$?
# exit 1: 16 requests are too few to confirm a p99 SLO (early stopping); the points are complete.
[[ $rc -le 1 ]] || { cat load.txt; echo "trackiq load failed with exit $rc"; exit 1; }
mapfile -t llm_runs < <(sed -n 's/^stored     run \([0-9a-f-]*\) .*/\1/p' load.txt)
[[ ${#llm_runs[@]} -eq 4 ]] || { cat load.txt; echo "expected 4 sweep points, got ${#llm_runs[@]}"; exit 1; }
"$trackiq" report "${llm_runs[@]}" --store llm.db -o llm_sweep.html --title "LLM concurrency sweep" >/dev/null
rc=0
"$trackiq" compare "${llm_runs[0]}" "${llm_runs[3]}" --store llm.db --report llm_comparison.html >/dev/null || rc=$?
[[ $rc -le 1 ]] || { echo "compare of the LLM points failed with exit $rc"; exit 1; }
node "$check" --screenshots shots --expect-charts tradeoff,tradeoff-ttft,tradeoff-token \
  --expect-cards median_ttft_ms,p99_ttft_ms,median_tpot_ms,p99_tpot_ms,median_e2el_ms,p99_e2el_ms,output_throughput,request_goodput \
  llm_sweep.html
# Two sweeps compared (CMP-5 in reports): the same sweep against the reference server, then
# against one 50 % slower to the first token. The report leads with the curve window and draws
# each curve metric for both sweeps along the concurrency axis.
sweep_json() {
  "$trackiq" load "http://127.0.0.1:$1/" --api openai-chat --model m --concurrency 1,2,4,8 --requests 16 \
    --no-store --json "$2" >/dev/null 2>&1
}
"$ref_server" --port-file slow_port --ttft-ms 30 --itl-ms 2 --tokens 8 >/dev/null &
slow_pid=$!
trap 'kill $server_pid $slow_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s slow_port ]] && break; sleep 0.05; done
sweep_json "$(cat port)" llm_a.json
sweep_json "$(cat slow_port)" llm_slow.json
rc=0
"$trackiq" compare llm_a.json llm_slow.json --report sweeps.html >/dev/null || rc=$?
[[ $rc -eq 1 ]] || { echo "compare of the sweeps: expected exit 1 (the slower server blocks), got $rc"; exit 1; }
grep -q '"sweep_comparison"' sweeps_data.json

# The regression table (ten columns, long metric names and reasons) fits a 1,400 px window.
node "$check" --screenshots shots --viewport 1400x900 --fit-tables comparison.html llm_comparison.html
node "$check" --screenshots shots --viewport 1400x900 --fit-tables --expect-charts curve sweeps.html

# The sweep's PDF flows: no page but the last is near-empty (its ink spans < 15 % of the page
# height, measured on the rendered pages), and it takes fewer pages than the 11 it took when
# every section started a new page.
"$trackiq" report "${llm_runs[@]}" --store llm.db -o llm_sweep.pdf >/dev/null
pdftoppm -r 30 -gray llm_sweep.pdf llm-page
python3 - llm-page-*.pgm <<'PY'
import re, sys
def extent(path):
    data = open(path, "rb").read()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    w, h = int(m[1]), int(m[2])
    px = data[m.end():]
    rows = [y for y in range(h) if min(px[y * w:(y + 1) * w]) < 200]
    return (rows[-1] - rows[0] + 1) / h if rows else 0.0
pages = [extent(p) for p in sorted(sys.argv[1:], key=lambda p: int(re.findall(r"\d+", p)[-1]))]
print("llm_sweep.pdf: {} pages, content per page: {}".format(len(pages), ", ".join(f"{s:.0%}" for s in pages)))
sparse = [i + 1 for i, s in enumerate(pages[:-1]) if s < 0.15]
if sparse:
    sys.exit(f"pages {sparse} are near-empty")
if not 1 <= len(pages) <= 9:
    sys.exit(f"{len(pages)} pages")
PY

# PDF: printed by headless Chromium. Page 1 (verdict, summary) must have ink on it, and the charts
# must be drawn: some page (the chart pages) with several times the ink of a text page.
"$trackiq" report b1.json b2.json -o report.pdf >/dev/null
pdftoppm -r 40 -gray report.pdf page
python3 - page-*.pgm <<'PY'
import re, sys
def ink(path):
    data = open(path, "rb").read()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    pixels = data[m.end():]
    return sum(1 for p in pixels if p < 200) / max(1, len(pixels))
shares = [ink(p) for p in sorted(sys.argv[1:], key=lambda p: int(re.findall(r"\d+", p)[-1]))]
print("report.pdf ink per page: " + ", ".join(f"{s:.1%}" for s in shares))
sys.exit(0 if shares and shares[0] > 0.005 and max(shares) > 0.03 else 1)
PY

# Without Chromium: exit 2 and say so, write nothing.
rc=0
msg=$(TRACKIQ_CHROMIUM=/nonexistent/chromium "$trackiq" report b1.json -o missing.pdf 2>&1) || rc=$?
[[ $rc -eq 2 && $msg == *Chromium* && ! -e missing.pdf ]] || { echo "missing Chromium: exit $rc, '$msg'"; exit 1; }
echo "browser tests passed; screenshots in $out/shots"
