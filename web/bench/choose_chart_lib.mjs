// Measures the charting-library candidates for the HTML report (docs/performance.md §7).
//
//   npm ci --prefix web/bench --no-audit --no-fund
//   node web/bench/choose_chart_lib.mjs [--pages N] [--raw-pages N] [--json OUT.json] [--screenshots DIR]
//
// For each candidate, in headless Chromium (/usr/bin/chromium through playwright-core; no browser
// is downloaded), on N fresh pages that inline the library as the report does:
//   - library evaluation time (parse + run of the inlined <script>);
//   - first draw of the report's "latency over time" chart at the size the C++ side hands over for
//     a 1 M-sample run: per-bucket min and max (2 x 2000 points, a filled band) plus 4 telemetry
//     series (2000 points each) on 4 extra y axes; cold (first chart of the page) and warm;
//   - redraw on resize (1000 <-> 800 px wide) and on zoom (x range to the middle half and back);
//   - the same chart with the raw 1 M points as one line instead of the band (why we downsample).
// Each timed step includes turning the page data (column arrays) into what the library takes,
// and ends when the library has drawn and Chromium has rasterized it (uPlot commits in a
// microtask, which is flushed; Chart.js draws synchronously with animation off; ECharts is
// flushed explicitly; then one pixel of each canvas is read back, which forces rasterization).
// Every draw is checked for non-blank pixels. Medians are printed as a Markdown table; --json
// writes every sample; --screenshots saves what each candidate drew (downsampled and raw).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}
const pages = Number(option('--pages', 7));
const rawPages = Number(option('--raw-pages', 3));
const jsonOut = option('--json', null);
const shotDir = option('--screenshots', null);
const warmDraws = 5;
const redraws = 20;

const nm = (p) => path.join(here, 'node_modules', p);
const version = (pkg) => JSON.parse(fs.readFileSync(nm(`${pkg}/package.json`), 'utf8')).version;

// ---------------------------------------------------------------------------------------------
// Page-side code. Kept as strings: it runs inside Chromium, not in node.

// Synthetic run: 1 M completions over 600 s, log-normal latency (median 4 ms) with rare 5-10x
// spikes and a throttled stretch (400-450 s, +50 %); bucketed to 2000 (min, max) as the C++
// side does; 4 telemetry channels sampled every 100 ms and bucketed the same way, their bucket
// times offset from the latency buckets (they come from another clock tick).
const dataScript = `
(function () {
  let s = 0x9e3779b9;
  const rnd = () => { s |= 0; s = (s + 0x6d2b79f5) | 0; let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const n = 1000000, duration = 600, buckets = 2000;
  const rawT = new Array(n), rawV = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = (i + rnd()) * duration / n;
    let v = 4 * Math.exp(0.25 * gauss());
    if (t > 400 && t < 450) v *= 1.5;
    if (rnd() < 0.001) v *= 5 + 5 * rnd();
    rawT[i] = t; rawV[i] = v;
  }
  const t = [], min = [], max = [];
  const per = n / buckets;
  for (let b = 0; b < buckets; b++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = b * per; i < (b + 1) * per; i++) { lo = Math.min(lo, rawV[i]); hi = Math.max(hi, rawV[i]); }
    t.push((b + 0.5) * duration / buckets); min.push(lo); max.push(hi);
  }
  const channel = (name, unit, f) => {
    const ts = [], v = [];
    for (let b = 0; b < buckets; b++) { const x = (b + 0.8) * duration / buckets; ts.push(x); v.push(f(x)); }
    return { name, unit, t: ts, v };
  };
  const tele = [
    channel('cpu_util_pct', '%', (x) => Math.min(100, 55 + 10 * Math.sin(x / 20) + 5 * rnd())),
    channel('gpu_util_pct', '%', (x) => (x > 400 && x < 450 ? 60 : 90) + 5 * rnd()),
    channel('gpu_temp_c', 'C', (x) => 45 + 40 * (1 - Math.exp(-x / 200)) + rnd()),
    channel('power_w', 'W', (x) => (x > 400 && x < 450 ? 180 : 280) + 20 * rnd()),
  ];
  window.DATA = { t, min, max, tele, rawT, rawV };
})();
`;

// The adapters: draw(el, D, w, h, raw) -> handle; resize(handle, w, h); zoom(handle, lo, hi);
// destroy(handle). Each uses the library's documented fast settings (no animation, no point
// markers) and draws what the report draws: min/max band, telemetry lines on their own axes.
const colours = ['#2563eb', '#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];

const uplotAdapter = `
// Merge-join of sorted x columns: uPlot wants one x array shared by every series.
function alignSorted(tables) {
  const idx = tables.map(() => 0), xs = [], cols = [];
  tables.forEach((tb) => { for (let c = 1; c < tb.length; c++) cols.push([]); });
  for (;;) {
    let x = Infinity;
    tables.forEach((tb, k) => { if (idx[k] < tb[0].length && tb[0][idx[k]] < x) x = tb[0][idx[k]]; });
    if (x === Infinity) break;
    xs.push(x);
    let col = 0;
    tables.forEach((tb, k) => {
      const hit = idx[k] < tb[0].length && tb[0][idx[k]] === x;
      for (let c = 1; c < tb.length; c++) cols[col++].push(hit ? tb[c][idx[k]] : null);
      if (hit) idx[k]++;
    });
  }
  return [xs, ...cols];
}
window.bench = {
  draw(el, D, w, h, raw) {
    const tables = [raw ? [D.rawT, D.rawV] : [D.t, D.min, D.max], ...D.tele.map((s) => [s.t, s.v])];
    const data = alignSorted(tables);
    const C = ${JSON.stringify(colours)};
    const series = [{}];
    if (raw) series.push({ label: 'latency', scale: 'ms', stroke: C[0], width: 1, spanGaps: true });
    else series.push({ label: 'min', scale: 'ms', stroke: C[0], width: 1, spanGaps: true },
                     { label: 'max', scale: 'ms', stroke: C[1], width: 1, spanGaps: true });
    D.tele.forEach((s, i) => series.push({ label: s.name, scale: s.name, stroke: C[2 + i], width: 1, spanGaps: true }));
    const axes = [{}, { scale: 'ms', label: 'ms' }];
    D.tele.forEach((s, i) => axes.push({ scale: s.name, side: 1, label: s.unit, grid: { show: false } }));
    const scales = { x: { time: false } };
    return new uPlot({ width: w, height: h, series, axes, scales,
                       bands: raw ? [] : [{ series: [2, 1], fill: 'rgba(37,99,235,0.25)' }] }, data, el);
  },
  resize(u, w, h) { u.setSize({ width: w, height: h }); },
  zoom(u, lo, hi) { u.setScale('x', { min: lo, max: hi }); },
  destroy(u) { u.destroy(); },
};
`;

const chartjsAdapter = `
const points = (xs, ys) => { const out = new Array(xs.length); for (let i = 0; i < xs.length; i++) out[i] = { x: xs[i], y: ys[i] }; return out; };
window.bench = {
  draw(el, D, w, h, raw) {
    const C = ${JSON.stringify(colours)};
    const canvas = document.createElement('canvas');
    canvas.width = w; canvas.height = h; el.appendChild(canvas);
    const line = { borderWidth: 1, pointRadius: 0, yAxisID: 'y' };
    const datasets = raw
      ? [{ ...line, label: 'latency', data: points(D.rawT, D.rawV), borderColor: C[0] }]
      : [{ ...line, label: 'min', data: points(D.t, D.min), borderColor: C[0] },
         { ...line, label: 'max', data: points(D.t, D.max), borderColor: C[1], fill: '-1', backgroundColor: 'rgba(37,99,235,0.25)' }];
    const scales = { x: { type: 'linear' }, y: { type: 'linear', title: { display: true, text: 'ms' } } };
    D.tele.forEach((s, i) => {
      datasets.push({ ...line, label: s.name, data: points(s.t, s.v), borderColor: C[2 + i], yAxisID: 'y' + (i + 1) });
      scales['y' + (i + 1)] = { type: 'linear', position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: s.unit } };
    });
    return new Chart(canvas, { type: 'line', data: { datasets },
      options: { animation: false, responsive: false, parsing: false, normalized: true, spanGaps: true,
                 interaction: { mode: 'nearest', axis: 'x', intersect: false }, scales } });
  },
  resize(c, w, h) { c.resize(w, h); },
  zoom(c, lo, hi) { c.options.scales.x.min = lo; c.options.scales.x.max = hi; c.update('none'); },
  destroy(c) { c.destroy(); },
};
`;

const echartsAdapter = `
window.bench = {
  draw(el, D, w, h, raw) {
    const C = ${JSON.stringify(colours)};
    const chart = echarts.init(el, null, { renderer: 'canvas', width: w, height: h });
    const dataset = [], series = [], yAxis = [{ type: 'value', name: 'ms', scale: true }];
    if (raw) {
      dataset.push({ source: { t: D.rawT, v: D.rawV } });
      series.push({ type: 'line', name: 'latency', datasetIndex: 0, encode: { x: 't', y: 'v' }, showSymbol: false, lineStyle: { width: 1, color: C[0] } });
    } else {
      // A filled band is a stack in ECharts: min (no fill) + (max - min) (filled).
      const span = D.max.map((v, i) => v - D.min[i]);
      dataset.push({ source: { t: D.t, min: D.min, span } });
      series.push({ type: 'line', name: 'min', datasetIndex: 0, encode: { x: 't', y: 'min' }, stack: 'band', showSymbol: false, lineStyle: { width: 1, color: C[0] } },
                  { type: 'line', name: 'max', datasetIndex: 0, encode: { x: 't', y: 'span' }, stack: 'band', showSymbol: false, lineStyle: { width: 1, color: C[1] }, areaStyle: { color: 'rgba(37,99,235,0.25)' } });
    }
    D.tele.forEach((s, i) => {
      dataset.push({ source: { t: s.t, v: s.v } });
      yAxis.push({ type: 'value', name: s.unit, position: 'right', offset: 50 * i, splitLine: { show: false }, scale: true });
      series.push({ type: 'line', name: s.name, datasetIndex: i + 1, yAxisIndex: i + 1, encode: { x: 't', y: 'v' }, showSymbol: false, lineStyle: { width: 1, color: C[2 + i] } });
    });
    chart.setOption({ animation: false, grid: { left: 60, right: 230, top: 40, bottom: 30 }, legend: {},
                      tooltip: { trigger: 'axis' }, dataZoom: [{ type: 'inside', xAxisIndex: 0 }],
                      xAxis: { type: 'value' }, yAxis, dataset, series });
    return chart;
  },
  resize(c, w, h) { c.resize({ width: w, height: h }); },
  zoom(c, lo, hi) { c.dispatchAction({ type: 'dataZoom', startValue: lo, endValue: hi }, { flush: true }); },
  destroy(c) { c.dispose(); },
};
`;

// Runs on the page: times every step, checks every draw left pixels on a canvas.
const runnerScript = `
window.runBench = async function (opts) {
  const D = window.DATA;
  const host = document.getElementById('host');
  const inked = (el) => {
    let n = 0;
    el.querySelectorAll('canvas').forEach((c) => {
      if (!c.width || !c.height) return;
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 16) if (px[i] !== 0) n++;
    });
    return n;
  };
  // A timed step ends twice: "js" when the library's code is done (uPlot commits in a microtask,
  // which is flushed first), "ms" when Chromium has also rasterized the drawing (reading back one
  // pixel of each canvas forces that now instead of at the next frame).
  const settle = async (el, t0) => {
    await new Promise((r) => queueMicrotask(r));
    const js = performance.now() - t0;
    el.querySelectorAll('canvas').forEach((c) => { if (c.width && c.height) c.getContext('2d').getImageData(0, 0, 1, 1); });
    return { js, ms: performance.now() - t0 };
  };
  const out = { cold: null, warm: [], resize: [], zoom: [], raw: null, rawResize: [], blank: [] };
  async function draw(raw) {
    const el = document.createElement('div');
    host.appendChild(el);
    const t0 = performance.now();
    const h = window.bench.draw(el, D, 1000, 300, raw);
    const t = await settle(el, t0);
    if (!inked(el)) out.blank.push(raw ? 'raw draw' : 'draw');
    return { el, h, t };
  }
  const dispose = (c) => { window.bench.destroy(c.h); c.el.remove(); };
  async function timed(fn, label, c) {
    const t0 = performance.now();
    fn();
    const t = await settle(c.el, t0);
    if (!inked(c.el)) out.blank.push(label);
    return t;
  }
  let c = await draw(false);
  out.cold = c.t;
  for (let i = 0; i < opts.warmDraws; i++) { dispose(c); c = await draw(false); out.warm.push(c.t); }
  const lo = D.t[0], hi = D.t[D.t.length - 1], q = (hi - lo) / 4;
  for (let i = 0; i < opts.redraws; i++)
    out.resize.push(await timed(() => window.bench.resize(c.h, i % 2 ? 1000 : 800, 300), 'resize', c));
  for (let i = 0; i < opts.redraws; i++)
    out.zoom.push(await timed(() => window.bench.zoom(c.h, i % 2 ? lo : lo + q, i % 2 ? hi : hi - q), 'zoom', c));
  dispose(c);
  if (opts.raw) {
    c = await draw(true);
    out.raw = c.t;
    for (let i = 0; i < 2; i++)
      out.rawResize.push(await timed(() => window.bench.resize(c.h, i % 2 ? 1000 : 800, 300), 'raw resize', c));
    dispose(c);
  }
  return out;
};
`;

// ---------------------------------------------------------------------------------------------

const candidates = [
  {
    name: `uPlot ${version('uplot')}`,
    js: ['uplot/dist/uPlot.iife.min.js'],
    css: ['uplot/dist/uPlot.min.css'],
    adapter: uplotAdapter,
  },
  {
    name: `Chart.js ${version('chart.js')} + boxplot ${version('@sgratzl/chartjs-chart-boxplot')} + error-bars ${version('chartjs-chart-error-bars')}`,
    js: ['chart.js/dist/chart.umd.min.js', '@sgratzl/chartjs-chart-boxplot/build/index.umd.min.js',
         'chartjs-chart-error-bars/build/index.umd.min.js'],
    css: [],
    adapter: chartjsAdapter,
  },
  {
    name: `ECharts ${version('echarts')} (full build)`,
    js: ['echarts/dist/echarts.min.js'],
    css: [],
    adapter: echartsAdapter,
  },
];

function pageHtml(candidate) {
  const read = (p) => fs.readFileSync(nm(p), 'utf8').replace(/<\/script/gi, '<\\/script');
  return `<!doctype html><html><head><meta charset="utf-8">
<style>${candidate.css.map(read).join('\n')} body{margin:0} #host>div{width:1000px;height:300px}</style></head>
<body><div id="host"></div>
<script>${dataScript}</script>
<script>window.__libStart = performance.now();</script>
${candidate.js.map((p) => `<script>${read(p)}</script>`).join('\n')}
<script>window.__libEval = performance.now() - window.__libStart;</script>
<script>${candidate.adapter}</script>
<script>${runnerScript}</script>
</body></html>`;
}

const median = (xs) => {
  const s = [...xs].filter((x) => x != null).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
                                          args: ['--no-sandbox'] });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackiq-chart-bench-'));
  const machine = {
    chromium: browser.version(),
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    node: process.version,
    loadavg_before: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
  const results = [];
  for (const cand of candidates) {
    const file = path.join(tmp, `${results.length}.html`);
    fs.writeFileSync(file, pageHtml(cand));
    const js = cand.js.map((p) => fs.readFileSync(nm(p)));
    const css = cand.css.map((p) => fs.readFileSync(nm(p)));
    const all = Buffer.concat([...js, ...css]);
    const r = { name: cand.name, files: [...cand.js, ...cand.css], bytes: all.length,
                gzip_bytes: zlib.gzipSync(all, { level: 9 }).length, libEval: [], cold: [], warm: [],
                resize: [], zoom: [], raw: [], rawResize: [], blank: [] };
    for (let p = 0; p < pages; p++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto('file://' + file);
      const out = await page.evaluate((o) => window.runBench(o),
                                      { warmDraws, redraws, raw: p < rawPages });
      r.libEval.push(await page.evaluate(() => window.__libEval));
      r.cold.push(out.cold);
      r.warm.push(...out.warm);
      r.resize.push(...out.resize);
      r.zoom.push(...out.zoom);
      if (out.raw != null) r.raw.push(out.raw);
      r.rawResize.push(...out.rawResize);
      r.blank.push(...out.blank, ...errors);
      await page.close();
    }
    results.push(r);
    process.stderr.write(`measured ${cand.name}\n`);
    if (shotDir) {
      fs.mkdirSync(shotDir, { recursive: true });
      const page = await browser.newPage({ viewport: { width: 1040, height: 700 }, deviceScaleFactor: 1 });
      await page.goto('file://' + file);
      await page.evaluate(() => {
        for (const raw of [false, true]) {
          const el = document.createElement('div');
          document.getElementById('host').appendChild(el);
          window.bench.draw(el, window.DATA, 1000, 300, raw);
        }
      });
      await page.waitForTimeout(200);
      await page.screenshot({ path: path.join(shotDir, `${cand.js[0].split('/')[0]}.png`), fullPage: true });
      await page.close();
    }
  }
  machine.loadavg_after = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  await browser.close();
  fs.rmSync(tmp, { recursive: true, force: true });

  const f = (x) => (x == null ? 'n/a' : x < 10 ? x.toFixed(1) : x.toFixed(0));
  const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
  const med = (r, k, part) => median(r[k].map((t) => t[part]));
  const cell = (r, k) => `${f(med(r, k, 'ms'))} (${f(med(r, k, 'js'))})`;
  console.log(`Chromium ${machine.chromium}, ${machine.cpus} CPUs (${machine.cpu_model}), node ${machine.node}`);
  console.log(`load average before ${machine.loadavg_before}, after ${machine.loadavg_after}`);
  console.log(`${pages} pages per candidate (${warmDraws} warm draws, ${redraws} resizes, ${redraws} zooms each); ` +
              `raw 1 M on ${rawPages} of them. Medians in ms: drawn and rasterized (JavaScript alone).\n`);
  console.log('| Candidate | Inlined (min.) | gzip | Lib eval | First draw, cold | First draw, warm | Resize | Zoom | Raw 1 M: first draw | Raw 1 M: resize |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.name} | ${kb(r.bytes)} | ${kb(r.gzip_bytes)} | ${f(median(r.libEval))} | ${cell(r, 'cold')} | ` +
                `${cell(r, 'warm')} | ${cell(r, 'resize')} | ${cell(r, 'zoom')} | ${cell(r, 'raw')} | ${cell(r, 'rawResize')} |`);
  }
  const base = results[0];
  console.log(`\nRatios to ${base.name} (medians, drawn and rasterized):`);
  for (const r of results.slice(1)) {
    const ratio = (k) => (med(r, k, 'ms') / med(base, k, 'ms')).toFixed(1);
    console.log(`- ${r.name}: bytes ${(r.bytes / base.bytes).toFixed(1)}x, lib eval ${(median(r.libEval) / median(base.libEval)).toFixed(1)}x, ` +
                `cold ${ratio('cold')}x, warm ${ratio('warm')}x, resize ${ratio('resize')}x, zoom ${ratio('zoom')}x, ` +
                `raw ${ratio('raw')}x, raw resize ${ratio('rawResize')}x`);
  }
  const blank = results.filter((r) => r.blank.length);
  for (const r of blank) console.log(`WARNING ${r.name}: ${[...new Set(r.blank)].join('; ')}`);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ machine, pages, rawPages, warmDraws, redraws, results }, null, 1));
  process.exitCode = blank.length ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exit(2); });
