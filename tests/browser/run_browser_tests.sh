#!/usr/bin/env bash
# The HTML and PDF reports of real runs, in a real browser (REP-2, REP-3): the built trackiq
# measures three short runs (batch 1, 2, 4, with telemetry and raw samples) and one without
# samples, writes a single-run, a several-run (trade-off over batch size, dark theme), a
# comparison and a no-samples report, and check_report.mjs opens each in headless Chromium
# offline (no console errors, every chart drawn, theme switch). Then a PDF is printed and its
# first page rendered with pdftoppm must not be blank, and a missing Chromium must be a clear
# error (exit 2). Screenshots and reports stay in OUT_DIR as test artifacts.
#   run_browser_tests.sh TRACKIQ OUT_DIR
set -euo pipefail
trackiq=$1
out=$2
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
