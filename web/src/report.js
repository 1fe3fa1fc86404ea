// TrackIQ HTML report: builds #app from the page data in #trackiq-data and draws its charts.
//
// Contract: docs/report-html.md. Inlined by src/report/html.cpp as a classic script after
// uPlot's IIFE build, whose global `uPlot` it uses, and common.js (TrackIQCommon: DOM, numbers,
// theme, axes, shared with the dashboard); no network, no modules, no bundler.
// Every string in the page data comes from result files that may be untrusted: it reaches the
// page only through textContent, attribute setters and canvas fillText, never through innerHTML.
// Sets window.__trackiqReady = true once every chart has drawn (the browser test and the PDF
// printer wait for it). The #theme-toggle button flips data-theme on <html> and redraws.
(function () {
  'use strict';

  const { FONT, el, append, isNum, num, unitText, withUnit, cssClass, readTheme, alpha, axis } = window.TrackIQCommon;
  const NO_SAMPLES = 'no raw samples';

  // ---------------------------------------------------------------------------------------------
  // Numbers: formatted the same in every locale.

  const int = (v) => (isNum(v) ? Math.round(v).toLocaleString('en-US') : '—');

  function pct(v) {
    if (!isNum(v)) return '—';
    return `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(1)} %`;
  }

  function pValue(p) {
    if (!isNum(p)) return '—';
    if (p < 1e-3) return p.toExponential(1);
    return String(Number(p.toPrecision(2)));
  }

  function bytes(b) {
    if (!isNum(b) || b <= 0) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return `${num(b, 3)} ${units[i]}`;
  }

  const text = (v) => (v == null || v === '' ? '—' : String(v));
  // A metric name that may wrap after its underscores (latency_p99_ms → latency_ p99_ ms), so a
  // table of long names still fits its page.
  const breakable = (name) => String(name).split(/(?<=_)/).flatMap((part, i) => (i ? [el('wbr'), part] : [part]));
  const opText = (op) => ({ '<=': '≤', '>=': '≥', '<': '<', '>': '>', '==': '=' }[op] || String(op ?? ''));

  // ---------------------------------------------------------------------------------------------
  // Page data

  const dataNode = document.getElementById('trackiq-data');
  const app = document.getElementById('app');
  let data;
  try {
    data = JSON.parse(dataNode ? dataNode.textContent : 'null');
  } catch (e) {
    data = null;
    console.error('trackiq: the page data is not valid JSON:', e.message);
  }
  data = data && typeof data === 'object' ? data : {};
  const runs = Array.isArray(data.runs) ? data.runs.filter((r) => r && typeof r === 'object') : [];
  const chartData = data.charts && typeof data.charts === 'object' ? data.charts : {};
  const chartRuns = Array.isArray(chartData.runs) ? chartData.runs.filter((r) => r && typeof r === 'object') : [];

  // The initial theme is the data's (the renderer also writes it on <html>).
  if (data.theme === 'light' || data.theme === 'dark') document.documentElement.setAttribute('data-theme', data.theme);

  const runIndex = new Map();
  runs.forEach((r, i) => runIndex.set(r.run_id, i));
  chartRuns.forEach((c) => { if (!runIndex.has(c.run_id)) runIndex.set(c.run_id, runIndex.size); });
  const chartsOf = new Map(chartRuns.map((c) => [c.run_id, c]));

  function labelOf(runId) {
    const c = chartsOf.get(runId);
    if (c && c.label) return String(c.label);
    const r = runs.find((x) => x.run_id === runId);
    const id = String(runId ?? '').slice(0, 8);
    if (r && r.labels) {
      const name = [r.labels.product, r.labels.version].filter((s) => s).join(' ');
      if (name) return `${name} (${id})`;
    }
    return id || 'run';
  }

  const colourIndex = (runId) => runIndex.get(runId) ?? 0;
  // Confidence level of the bars' ci_low..ci_high: the comparison's level when given.
  const ciConf = data.comparison?.bootstrap?.confidence;
  const ciName = isNum(ciConf) && ciConf > 0 && ciConf < 1 ? `${num(ciConf * 100, 3)} % CI` : 'CI';
  const metricValue = (run, name) => run?.metrics?.[name]?.value;

  // ---------------------------------------------------------------------------------------------
  // Charts: every chart is a spec that can be (re)built for a theme and a width.

  const charts = []; // {kind, plot: Element, height, make(theme, width) -> uPlot, u}

  // A chart block: title, the plot (uPlot's target, carries data-chart), a legend, a readout line
  // filled on hover. make(theme, width, parts) returns a uPlot.
  function chart(kind, title, height, make, note) {
    const plot = el('div', { class: 'chart-plot', 'data-chart': kind });
    // A fixed height whatever the width it is drawn at: the printed page is laid out (and
    // paginated) the same before and after the charts are redrawn at the paper's width.
    plot.style.height = `${height}px`;
    const interactive = kind === 'timeline';
    const legend = el('div', { class: 'chart-legend' });
    const readout = el('div', { class: 'chart-readout', 'aria-live': 'polite' }, '\u00a0');
    const block = el('figure', { class: `chart chart-${kind}` },
      el('figcaption', { class: 'chart-title' }, title, note ? el('span', { class: 'chart-note' }, note) : null,
        interactive ? el('span', { class: 'chart-note screen-only' }, 'drag to zoom · double-click to reset · click a legend entry to hide it') : null),
      plot, legend, readout);
    charts.push({ kind, plot, height, legend, readout, make, u: null });
    return block;
  }

  function placeholder(title, why) {
    return el('figure', { class: 'chart chart-empty' },
      el('figcaption', { class: 'chart-title' }, title),
      el('div', { class: 'no-data' }, why));
  }

  // Redraws every chart: clears them all, reads every width in one layout pass, then builds
  // (reading a width after each build would force a layout per chart).
  function drawAll() {
    const theme = readTheme();
    for (const c of charts) {
      if (c.u) { c.u.destroy(); c.u = null; }
      c.plot.textContent = '';
      c.legend.textContent = '';
    }
    const widths = charts.map((c) => Math.max(200, Math.floor(c.plot.clientWidth || 600)));
    charts.forEach((c, i) => {
      try {
        c.u = c.make(theme, widths[i], c);
      } catch (e) {
        console.error(`trackiq: the ${c.kind} chart failed:`, e);
        c.plot.textContent = `chart failed: ${e.message}`;
      }
    });
  }

  // Axis tick labels: uPlot passes null for ticks whose label it hides (log axes).
  const ticks = (fmt) => (u, splits) => splits.map((v) => (v == null ? '' : fmt(v)));
  // On log axes, label only 1, 2 and 5 times a power of ten, unless that leaves fewer than two
  // labels (a range within one decade): then every tick. Goes with logFilter, which stops uPlot
  // from nulling the ticks itself first.
  const logFilter = (u, splits) => splits;
  const logTicks = (u, splits) => {
    const nice = splits.map((v) => {
      if (v == null || !(v > 0)) return '';
      const m = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
      return [1, 2, 5].some((k) => Math.abs(m - k) < 1e-6) ? num(v, 3) : '';
    });
    return nice.filter((t) => t !== '').length >= 2 ? nice : splits.map((v) => (v == null ? '' : num(v, 2)));
  };

  function baseOpts(theme, width, height, extra) {
    return Object.assign({
      width, height,
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
    }, extra);
  }

  // Swatch legend; toggles(i) -> series indices to show/hide when the entry is clicked.
  function legendEntry(c, colour, label, toggle, shape) {
    const sw = el('span', { class: `swatch ${shape || ''}` });
    sw.style.background = colour;
    const entry = el(toggle ? 'button' : 'span', { class: 'legend-entry', type: toggle ? 'button' : null }, sw, label);
    if (toggle) {
      entry.addEventListener('click', () => {
        const off = !entry.classList.contains('off');
        entry.classList.toggle('off', off);
        for (const i of toggle()) c.u && c.u.setSeries(i, { show: !off });
      });
    }
    c.legend.appendChild(entry);
  }

  function setReadout(c, s) { c.readout.textContent = s || '\u00a0'; }

  // Index of the element of sorted xs nearest to x.
  function nearest(xs, x) {
    let lo = 0, hi = xs.length - 1;
    if (hi < 0) return -1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] <= x) lo = mid; else hi = mid;
    }
    return Math.abs(xs[hi] - x) < Math.abs(xs[lo] - x) ? hi : lo;
  }

  // Merge-join of tables [xs, col1, col2...] with sorted xs onto one shared x column (uPlot wants
  // one); a table's columns are null where it has no point at that x. Linear time.
  function alignSorted(tables) {
    const pos = tables.map(() => 0);
    const xs = [];
    const cols = [];
    tables.forEach((t) => { for (let k = 1; k < t.length; k++) cols.push([]); });
    for (;;) {
      let x = Infinity;
      for (let j = 0; j < tables.length; j++) {
        const t = tables[j];
        if (pos[j] < t[0].length && t[0][pos[j]] < x) x = t[0][pos[j]];
      }
      if (x === Infinity) break;
      xs.push(x);
      let col = 0;
      for (let j = 0; j < tables.length; j++) {
        const t = tables[j];
        const hit = pos[j] < t[0].length && t[0][pos[j]] === x;
        for (let k = 1; k < t.length; k++) cols[col++].push(hit ? t[k][pos[j]] : null);
        if (hit) pos[j]++;
      }
    }
    return [xs, ...cols];
  }

  const finite = (xs) => Array.isArray(xs) ? xs.map((v) => (isNum(v) ? v : null)) : [];
  const positive = (xs) => xs.filter((v) => isNum(v) && v > 0);

  // Log range padded by a few percent (uPlot's default snaps log ranges to whole decades).
  function logRange(lo, hi) {
    if (!(lo > 0) || !(hi > 0)) return [1, 10];
    if (hi <= lo) return [lo / 1.5, hi * 1.5];
    const pad = Math.pow(hi / lo, 0.03);
    return [lo / pad, hi * pad];
  }

  // Vertical marker lines with a label at the top: [{x, label}] on scale 'x'.
  function drawMarkers(u, marks, colour) {
    const ctx = u.ctx;
    const { top, height } = u.bbox;
    const px = uPlot.pxRatio;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = px;
    ctx.setLineDash([4 * px, 3 * px]);
    ctx.font = `${Math.round(10 * px)}px ${FONT}`;
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    for (const m of marks) {
      if (!isNum(m.x)) continue;
      const x = Math.round(u.valToPos(m.x, 'x', true)) + 0.5;
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.fillText(m.label, x + 3 * px, top + 2 * px);
    }
    ctx.restore();
  }

  // --- latency histogram: log-spaced bins drawn as steps on a log x axis.
  function histogramChart(c) {
    const hist = c.histogram;
    const edges = finite(hist.edges_ms);
    const counts = finite(hist.counts);
    const total = counts.reduce((a, b) => a + (b || 0), 0);
    const box = c.box || {};
    return (theme, width, ch) => {
      const colour = theme.series[0];
      const ys = counts.slice(0, edges.length - 1);
      ys.push(0);
      const [lo, hi] = logRange(edges[0], edges[edges.length - 1]);
      const maxCount = Math.max(1, ...ys.map((v) => v || 0));
      const u = new uPlot(baseOpts(theme, width, ch.height, {
        scales: { x: { time: false, distr: 3, log: 10, range: () => [lo, hi] }, y: { range: () => [0, maxCount * 1.08] } },
        axes: [axis(theme, { label: 'latency (ms, log scale)', filter: logFilter, values: logTicks }),
               axis(theme, { label: 'samples', size: 56, values: ticks((v) => (Number.isInteger(v) ? int(v) : '')) })],
        series: [{}, { stroke: colour, fill: alpha(colour, 0.3), width: 1.25, paths: uPlot.paths.stepped({ align: 1 }) }],
        hooks: {
          draw: [(u) => drawMarkers(u, [{ x: box.median, label: 'p50' }, { x: box.p99, label: 'p99' }], theme.marker)],
          setCursor: [(u) => {
            const i = u.cursor.idx;
            if (i == null || i >= edges.length - 1) return setReadout(ch, '');
            const share = total > 0 ? ` (${num(100 * (counts[i] || 0) / total, 3)} %)` : '';
            setReadout(ch, `${num(edges[i])}–${num(edges[i + 1])} ms: ${int(counts[i])} samples${share}`);
          }],
        },
      }), [edges, ys], ch.plot);
      return u;
    };
  }

  // --- CDF on a log x axis.
  function cdfChart(c) {
    const xs = finite(c.cdf.latency_ms);
    const ys = finite(c.cdf.fraction);
    return (theme, width, ch) => {
      const colour = theme.series[0];
      const [lo, hi] = logRange(Math.min(...positive(xs)), Math.max(...positive(xs)));
      return new uPlot(baseOpts(theme, width, ch.height, {
        scales: { x: { time: false, distr: 3, log: 10, range: () => [lo, hi] }, y: { range: () => [0, 1] } },
        axes: [axis(theme, { label: 'latency (ms, log scale)', filter: logFilter, values: logTicks }),
               axis(theme, { label: 'fraction of samples ≤ x', size: 56, splits: () => [0, 0.25, 0.5, 0.75, 0.9, 1],
                             values: (u, s) => s.map((v) => `${num(v * 100, 3)} %`) })],
        series: [{}, { stroke: colour, width: 1.75, spanGaps: true }],
        hooks: {
          draw: [(u) => {
            const ctx = u.ctx, px = uPlot.pxRatio;
            ctx.save();
            ctx.strokeStyle = theme.marker;
            ctx.lineWidth = px;
            ctx.setLineDash([4 * px, 3 * px]);
            ctx.fillStyle = theme.marker;
            ctx.font = `${Math.round(10 * px)}px ${FONT}`;
            ctx.textAlign = 'right';
            ctx.textBaseline = 'bottom';
            for (const [f, label] of [[0.5, 'p50'], [0.99, 'p99']]) {
              const y = Math.round(u.valToPos(f, 'y', true)) + 0.5;
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.fillText(label, u.bbox.left + u.bbox.width - 2 * px, y - 2 * px);
            }
            ctx.restore();
          }],
          setCursor: [(u) => {
            const i = u.cursor.idx;
            if (i == null) return setReadout(ch, '');
            setReadout(ch, `${num(ys[i] * 100, 5)} % of samples ≤ ${num(xs[i])} ms`);
          }],
        },
        cursor: { points: { show: true, size: 7 }, drag: { x: false, y: false } },
      }), [xs, ys], ch.plot);
    };
  }

  // --- box plots: one box per entry [{label, runId, box}], drawn by us on uPlot's axes.
  function boxChart(entries) {
    const vals = [];
    for (const e of entries) for (const k of ['min', 'q1', 'median', 'q3', 'max', 'p99']) if (isNum(e.box[k])) vals.push(e.box[k]);
    const lo = vals.length ? Math.min(...vals) : 0, hi = vals.length ? Math.max(...vals) : 1;
    const log = lo > 0 && hi / lo > 8;
    const xs = entries.map((e, i) => i);
    const medians = entries.map((e) => (isNum(e.box.median) ? e.box.median : null));
    return (theme, width, ch) => {
      const range = log ? logRange(lo, hi) : [Math.max(0, lo - (hi - lo) * 0.08), hi + (hi - lo) * 0.08 || hi + 1];
      return new uPlot(baseOpts(theme, width, ch.height, {
        scales: { x: { time: false, range: () => [-0.5, entries.length - 0.5] },
                  y: log ? { distr: 3, log: 10, range: () => range } : { range: () => range } },
        axes: [axis(theme, { show: entries.length > 1, grid: { show: false }, splits: () => xs,
                             values: (u, s) => s.map((i) => shortLabel(entries[i]?.label, u.bbox.width / uPlot.pxRatio / entries.length)) }),
               axis(theme, { label: log ? 'latency (ms, log scale)' : 'latency (ms)', size: 56, filter: log ? logFilter : undefined, values: log ? logTicks : ticks((v) => num(v, 3)) })],
        series: [{}, { paths: () => null, points: { show: false } }],
        hooks: {
          draw: [(u) => entries.forEach((e, i) => drawBox(u, i, e.box, theme.series[colourIndex(e.runId) % 8], theme, entries.length))],
          setCursor: [(u) => {
            const i = u.cursor.idx;
            const e = entries[i];
            if (i == null || !e) return setReadout(ch, '');
            const b = e.box;
            setReadout(ch, `${entries.length > 1 ? e.label + ': ' : ''}min ${num(b.min)} · q1 ${num(b.q1)} · median ${num(b.median)} · ` +
                           `q3 ${num(b.q3)} · p99 ${num(b.p99)} · max ${num(b.max)} ms`);
          }],
        },
      }), [xs, medians], ch.plot);
    };
  }

  function drawBox(u, i, b, colour, theme, n) {
    const ctx = u.ctx, px = uPlot.pxRatio;
    const y = (v) => Math.round(u.valToPos(v, 'y', true)) + 0.5;
    const x = Math.round(u.valToPos(i, 'x', true)) + 0.5;
    const half = Math.max(8 * px, Math.min(44 * px, u.bbox.width / n * 0.22));
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5 * px;
    ctx.beginPath();
    if (isNum(b.min) && isNum(b.q1)) { ctx.moveTo(x, y(b.min)); ctx.lineTo(x, y(b.q1)); ctx.moveTo(x - half / 2, y(b.min)); ctx.lineTo(x + half / 2, y(b.min)); }
    if (isNum(b.max) && isNum(b.q3)) { ctx.moveTo(x, y(b.q3)); ctx.lineTo(x, y(b.max)); ctx.moveTo(x - half / 2, y(b.max)); ctx.lineTo(x + half / 2, y(b.max)); }
    ctx.stroke();
    if (isNum(b.q1) && isNum(b.q3)) {
      const top = y(b.q3), h = Math.max(1, y(b.q1) - top);
      ctx.fillStyle = alpha(colour, 0.28);
      ctx.fillRect(x - half, top, 2 * half, h);
      ctx.strokeRect(x - half, top, 2 * half, h);
    }
    if (isNum(b.median)) {
      ctx.lineWidth = 3 * px;
      ctx.beginPath(); ctx.moveTo(x - half, y(b.median)); ctx.lineTo(x + half, y(b.median)); ctx.stroke();
    }
    if (isNum(b.p99)) {
      const yy = y(b.p99);
      ctx.fillStyle = theme.throttle;
      ctx.beginPath();
      ctx.moveTo(x + half + 2 * px, yy); ctx.lineTo(x + half + 8 * px, yy - 4 * px); ctx.lineTo(x + half + 8 * px, yy + 4 * px);
      ctx.closePath(); ctx.fill();
      ctx.font = `${Math.round(10 * px)}px ${FONT}`;
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'left';
      ctx.fillText('p99', x + half + 10 * px, yy);
    }
    ctx.restore();
  }

  // Fits a run label into about `space` CSS pixels of axis.
  function shortLabel(label, space) {
    const s = String(label ?? '');
    const max = Math.max(6, Math.floor(space / 6.5));
    return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
  }

  // --- latency over time: min/max band per bucket, telemetry on their own axes, throttling marks.
  function timelineChart(c) {
    const tl = c.timeline;
    const tele = (Array.isArray(c.telemetry) ? c.telemetry : [])
      .filter((s) => s && Array.isArray(s.t_s) && s.t_s.length > 0);
    const throttle = finite(c.throttle_t_s).filter(isNum);
    const tables = [[finite(tl.t_s), finite(tl.min_ms), finite(tl.max_ms)],
                    ...tele.map((s) => [finite(s.t_s), finite(s.min), finite(s.max)])];
    // Series order is drawing order: telemetry first, latency on top of it.
    const aligned = alignSorted(tables);
    const data = [aligned[0], ...aligned.slice(3), aligned[1], aligned[2]];
    const units = [];
    for (const s of tele) if (!units.includes(String(s.unit ?? ''))) units.push(String(s.unit ?? ''));
    const latMax = Math.max(0, ...finite(tl.max_ms).filter(isNum));
    const latMin = Math.min(...positive(finite(tl.min_ms)));
    const latLog = latMin > 0 && latMax / latMin > 20;

    return (theme, width, ch) => {
      const lat = theme.series[0];
      const teleColour = (i) => theme.series[(i + 1) % 8];
      const series = [{}];
      const bands = [];
      const scales = { x: { time: false },
                       ms: latLog ? { distr: 3, log: 10, range: () => logRange(latMin, latMax) } : { range: () => [0, latMax * 1.06 || 1] } };
      const axes = [axis(theme, { label: 'time since start (s)', values: ticks((v) => num(v, 4)) }),
                    axis(theme, { scale: 'ms', label: latLog ? 'latency (ms, log scale)' : 'latency (ms)', size: 56,
                                  filter: latLog ? logFilter : undefined, values: latLog ? logTicks : ticks((v) => num(v, 3)) })];
      units.forEach((unit) => {
        const key = `unit:${unit}`;
        const members = tele.map((s, i) => [s, i]).filter(([s]) => String(s.unit ?? '') === unit);
        const allMax = Math.max(...members.flatMap(([s]) => finite(s.max).filter(isNum)));
        const allMin = Math.min(...members.flatMap(([s]) => finite(s.min).filter(isNum)));
        scales[key] = { range: () => (unit === '%' && allMax <= 100 && allMin >= 0 ? [0, 100]
          : [allMin - (allMax - allMin) * 0.1 - 1e-9, allMax + (allMax - allMin) * 0.1 + 1e-9]) };
        axes.push(axis(theme, { scale: key, side: 1, label: unit || 'value', size: 48, grid: { show: false },
                                stroke: members.length === 1 ? teleColour(members[0][1]) : theme.axis,
                                values: ticks((v) => num(v, 3)) }));
      });
      tele.forEach((s, i) => {
        const colour = teleColour(i);
        const key = `unit:${String(s.unit ?? '')}`;
        series.push({ label: `${s.name} min`, scale: key, stroke: alpha(colour, 0.25), width: 1, spanGaps: true },
                    { label: `${s.name} max`, scale: key, stroke: alpha(colour, 0.7), width: 1, spanGaps: true });
        bands.push({ series: [series.length - 1, series.length - 2], fill: alpha(colour, 0.08) });
      });
      series.push({ label: 'latency min', scale: 'ms', stroke: lat, width: 1, spanGaps: true },
                  { label: 'latency max', scale: 'ms', stroke: lat, width: 1, spanGaps: true });
      bands.push({ series: [series.length - 1, series.length - 2], fill: alpha(lat, 0.4) });

      legendEntry(ch, lat, 'latency, min–max per bucket', null, 'band');
      tele.forEach((s, i) => {
        const unit = unitText(s.unit);
        legendEntry(ch, teleColour(i), `${s.name}${unit ? ` (${unit})` : ''}`, () => [1 + 2 * i, 2 + 2 * i]);
      });
      if (throttle.length) legendEntry(ch, theme.throttle, `throttling (${throttle.length} ${throttle.length === 1 ? 'mark' : 'marks'})`, null, 'line');

      return new uPlot(baseOpts(theme, width, ch.height, {
        scales, axes, series, bands,
        cursor: { points: { show: false }, drag: { x: true, y: false } },
        hooks: {
          draw: [(u) => {
            if (!throttle.length) return;
            const ctx = u.ctx, px = uPlot.pxRatio;
            const { left, top, width: w, height } = u.bbox;
            ctx.save();
            ctx.fillStyle = alpha(theme.throttle, 0.55);
            for (const t of throttle) {
              const x = Math.round(u.valToPos(t, 'x', true));
              if (x < left || x > left + w) continue;
              ctx.fillRect(x, top, Math.max(1, px), height);
              ctx.beginPath();
              ctx.moveTo(x - 4 * px, top); ctx.lineTo(x + 5 * px, top); ctx.lineTo(x + 0.5 * px, top + 6 * px);
              ctx.closePath(); ctx.fill();
            }
            ctx.restore();
          }],
          setCursor: [(u) => {
            if (u.cursor.left == null || u.cursor.left < 0) return setReadout(ch, '');
            const x = u.posToVal(u.cursor.left, 'x');
            const parts = [`t = ${num(x, 4)} s`];
            const i = nearest(tables[0][0], x);
            if (i >= 0) {
              const a = tables[0][1][i], b = tables[0][2][i];
              parts.push(!isNum(a) && !isNum(b) ? 'no latency samples in this bucket'
                : a === b || !isNum(a) || !isNum(b) ? `latency ${num(isNum(b) ? b : a)} ms` : `latency ${num(a)}–${num(b)} ms`);
            }
            tele.forEach((s, k) => {
              const t = tables[k + 1];
              const j = nearest(t[0], x);
              if (j < 0) return;
              const a = t[1][j], b = t[2][j];
              const unit = unitText(s.unit);
              parts.push(`${s.name} ${a === b || !isNum(a) ? num(b, 3) : `${num(a, 3)}–${num(b, 3)}`}${unit ? ' ' + unit : ''}`);
            });
            setReadout(ch, parts.join(' · '));
          }],
        },
      }), data, ch.plot);
    };
  }

  const tradeoffAxisName = (axis) => ({ batch_size: 'batch size', rate: 'request rate (1/s)', concurrency: 'concurrency' }[axis] ||
                                        String(axis ?? 'x'));
  const tradeoffPoints = (tradeoff) => (Array.isArray(tradeoff.points) ? tradeoff.points : []).filter((p) => p && isNum(p.x))
    .sort((a, b) => a.x - b.x);
  // The x scale of a trade-off: log2 when the setting spans a factor of 8 or more (1, 2, 4, 8).
  function tradeoffX(xs) {
    const log = xs.length > 1 && xs[0] > 0 && xs[xs.length - 1] / xs[0] >= 8;
    const range = log ? logRange(xs[0], xs[xs.length - 1])
      : [xs[0] - (xs[xs.length - 1] - xs[0]) * 0.05 - (xs.length === 1 ? 1 : 0), xs[xs.length - 1] + (xs[xs.length - 1] - xs[0]) * 0.05 + (xs.length === 1 ? 1 : 0)];
    return { log, scale: Object.assign({ time: false, range: () => range }, log ? { distr: 3, log: 2 } : {}) };
  }

  // --- LLM trade-off: one latency family (TTFT, or TPOT/ITL) at p50 and p99 against the swept
  // concurrency or rate, one point per sweep step (GenAI-Perf's and vLLM's benchmark plots).
  function llmTradeoffChart(tradeoff, key, name) {
    const axisName = tradeoffAxisName(tradeoff.axis);
    const points = tradeoffPoints(tradeoff);
    const xs = points.map((p) => p.x);
    const p50 = points.map((p) => (isNum(p[`${key}_p50_ms`]) ? p[`${key}_p50_ms`] : null));
    const p99 = points.map((p) => (isNum(p[`${key}_p99_ms`]) ? p[`${key}_p99_ms`] : null));
    const maxMs = Math.max(0, ...p50.filter(isNum), ...p99.filter(isNum));
    return (theme, width, ch) => {
      const [c50, c99] = [theme.series[0], theme.series[4]];
      const pts = (colour) => ({ show: true, size: 7, stroke: colour, fill: colour });
      legendEntry(ch, c50, `${name} p50 (ms)`, () => [1]);
      legendEntry(ch, c99, `${name} p99 (ms)`, () => [2]);
      const x = tradeoffX(xs);
      return new uPlot(baseOpts(theme, width, ch.height, {
        scales: { x: x.scale, ms: { range: () => [0, maxMs * 1.1 || 1] } },
        axes: [axis(theme, { label: axisName + (x.log ? ' (log scale)' : ''), splits: x.log ? () => xs : undefined,
                             values: ticks((v) => num(v, 4)) }),
               axis(theme, { scale: 'ms', label: `${name} (ms)`, size: 56, values: ticks((v) => num(v, 3)) })],
        series: [{},
          { label: `${name} p50`, scale: 'ms', stroke: c50, width: 2, points: pts(c50) },
          { label: `${name} p99`, scale: 'ms', stroke: c99, width: 2, dash: [6, 4], points: pts(c99) }],
        cursor: { points: { show: false }, drag: { x: false, y: false } },
        hooks: {
          setCursor: [(u) => {
            const i = u.cursor.idx;
            const p = points[i];
            if (i == null || !p) return setReadout(ch, '');
            setReadout(ch, `${axisName} ${num(p.x)}: ${name} p50 ${num(p50[i])} ms · p99 ${num(p99[i])} ms · ` +
                           `${labelOf(p.run_id) || p.label || ''}`);
          }],
        },
      }), [xs, p50, p99], ch.plot);
    };
  }

  // --- trade-off: p50/p99 latency and throughput against batch size, rate or concurrency.
  function tradeoffChart(tradeoff) {
    const axisName = tradeoffAxisName(tradeoff.axis);
    const points = tradeoffPoints(tradeoff);
    const xs = points.map((p) => p.x);
    const log = xs.length > 1 && xs[0] > 0 && xs[xs.length - 1] / xs[0] >= 8;
    const p50 = points.map((p) => (isNum(p.p50_ms) ? p.p50_ms : null));
    const p99 = points.map((p) => (isNum(p.p99_ms) ? p.p99_ms : null));
    const tput = points.map((p) => (isNum(p.throughput) ? p.throughput : null));
    const maxMs = Math.max(0, ...p99.filter(isNum), ...p50.filter(isNum));
    const maxT = Math.max(0, ...tput.filter(isNum));
    return (theme, width, ch) => {
      const [c50, c99, ct] = [theme.series[0], theme.series[4], theme.series[2]];
      const pts = (colour) => ({ show: true, size: 7, stroke: colour, fill: colour });
      legendEntry(ch, c50, 'p50 latency (ms)', () => [1]);
      legendEntry(ch, c99, 'p99 latency (ms)', () => [2]);
      legendEntry(ch, ct, 'throughput (/s, right axis)', () => [3]);
      const xr = log ? logRange(xs[0], xs[xs.length - 1])
        : [xs[0] - (xs[xs.length - 1] - xs[0]) * 0.05 - (xs.length === 1 ? 1 : 0), xs[xs.length - 1] + (xs[xs.length - 1] - xs[0]) * 0.05 + (xs.length === 1 ? 1 : 0)];
      return new uPlot(baseOpts(theme, width, ch.height, {
        scales: { x: Object.assign({ time: false, range: () => xr }, log ? { distr: 3, log: 2 } : {}),
                  ms: { range: () => [0, maxMs * 1.1 || 1] }, tput: { range: () => [0, maxT * 1.1 || 1] } },
        axes: [axis(theme, { label: axisName + (log ? ' (log scale)' : ''), splits: log ? () => xs : undefined,
                             values: ticks((v) => num(v, 4)) }),
               axis(theme, { scale: 'ms', label: 'latency (ms)', size: 56, values: ticks((v) => num(v, 3)) }),
               axis(theme, { scale: 'tput', side: 1, label: 'throughput (/s)', size: 60, grid: { show: false }, stroke: ct,
                             values: ticks((v) => num(v, 3)) })],
        series: [{},
          { label: 'p50', scale: 'ms', stroke: c50, width: 2, points: pts(c50) },
          { label: 'p99', scale: 'ms', stroke: c99, width: 2, points: pts(c99) },
          { label: 'throughput', scale: 'tput', stroke: ct, width: 2, dash: [6, 4], points: pts(ct) }],
        cursor: { points: { show: false }, drag: { x: false, y: false } },
        hooks: {
          setCursor: [(u) => {
            const i = u.cursor.idx;
            const p = points[i];
            if (i == null || !p) return setReadout(ch, '');
            setReadout(ch, `${axisName} ${num(p.x)}: p50 ${num(p.p50_ms)} ms · p99 ${num(p.p99_ms)} ms · ` +
                           `${num(p.throughput)}/s · ${labelOf(p.run_id) || p.label || ''}`);
          }],
        },
      }), [xs, p50, p99, tput], ch.plot);
    };
  }

  // --- bars with error bars (ci_low..ci_high) for one metric across runs.
  function barsChart(bar) {
    const entries = (Array.isArray(bar.runs) ? bar.runs : []).filter((r) => r);
    const xs = entries.map((e, i) => i);
    const vals = entries.map((e) => (isNum(e.value) ? e.value : null));
    const all = entries.flatMap((e) => [e.value, e.ci_low, e.ci_high]).filter(isNum);
    const hi = Math.max(0, ...all), lo = Math.min(0, ...all);
    const unit = unitText(bar.unit);
    return (theme, width, ch) => new uPlot(baseOpts(theme, width, ch.height, {
      scales: { x: { time: false, range: () => [-0.5, entries.length - 0.5] },
                y: { range: () => [lo < 0 ? lo * 1.25 : 0, hi * 1.25 || 1] } },
      axes: [axis(theme, { grid: { show: false }, splits: () => xs,
                           values: (u, s) => s.map((i) => shortLabel(labelOf(entries[i]?.run_id) || entries[i]?.label, u.bbox.width / uPlot.pxRatio / entries.length)) }),
             axis(theme, { label: unit || 'value', size: 56, values: ticks((v) => num(v, 3)) })],
      series: [{}, { paths: () => null, points: { show: false } }],
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx, px = uPlot.pxRatio;
          const zero = u.valToPos(0, 'y', true);
          const slot = u.bbox.width / Math.max(1, entries.length);
          const half = Math.min(36 * px, slot * 0.3);
          ctx.save();
          ctx.font = `${Math.round(11 * px)}px ${FONT}`;
          ctx.textAlign = 'center';
          entries.forEach((e, i) => {
            const colour = theme.series[colourIndex(e.run_id) % 8];
            const x = u.valToPos(i, 'x', true);
            if (isNum(e.value)) {
              const y = u.valToPos(e.value, 'y', true);
              ctx.fillStyle = alpha(colour, 0.75);
              ctx.fillRect(x - half, Math.min(y, zero), 2 * half, Math.abs(zero - y));
            }
            let top = isNum(e.value) ? u.valToPos(e.value, 'y', true) : zero;
            if (isNum(e.ci_low) && isNum(e.ci_high)) {
              const y1 = Math.round(u.valToPos(e.ci_low, 'y', true)) + 0.5;
              const y2 = Math.round(u.valToPos(e.ci_high, 'y', true)) + 0.5;
              const xx = Math.round(x) + 0.5;
              ctx.strokeStyle = theme.text;
              ctx.lineWidth = 1.5 * px;
              ctx.beginPath();
              ctx.moveTo(xx, y1); ctx.lineTo(xx, y2);
              ctx.moveTo(xx - half / 3, y1); ctx.lineTo(xx + half / 3, y1);
              ctx.moveTo(xx - half / 3, y2); ctx.lineTo(xx + half / 3, y2);
              ctx.stroke();
              top = Math.min(top, y2);
            }
            if (isNum(e.value)) {
              ctx.fillStyle = theme.text;
              ctx.textBaseline = 'bottom';
              ctx.fillText(num(e.value), x, top - 4 * px);
            }
          });
          ctx.restore();
        }],
        setCursor: [(u) => {
          const i = u.cursor.idx;
          const e = entries[i];
          if (i == null || !e) return setReadout(ch, '');
          const ci = isNum(e.ci_low) && isNum(e.ci_high) ? ` (${ciName} ${num(e.ci_low)}–${num(e.ci_high)})` : ' (no CI)';
          setReadout(ch, `${labelOf(e.run_id) || e.label}: ${num(e.value)}${unit ? ' ' + unit : ''}${ci}`);
        }],
      },
    }), [xs, vals], ch.plot);
  }

  // ---------------------------------------------------------------------------------------------
  // Sections

  function section(id, title, ...children) {
    return el('section', { id, class: 'section' }, el('h2', null, title), ...children);
  }

  function runHeading(runId, tag) {
    const sw = el('span', { class: 'run-dot' });
    sw.style.background = `var(--series-${(colourIndex(runId) % 8) + 1})`;
    return el(tag || 'h3', { class: 'run-heading' }, sw, labelOf(runId));
  }

  function verdictBadge(v, big) {
    const s = String(v ?? 'UNKNOWN');
    return el('span', { class: `verdict verdict-${cssClass(s)}${big ? ' verdict-big' : ''}` }, s);
  }

  function header() {
    const es = data.executive_summary || {};
    const toggle = el('button', { id: 'theme-toggle', type: 'button', class: 'theme-toggle' });
    const syncToggle = () => {
      const dark = document.documentElement.getAttribute('data-theme') === 'dark';
      toggle.textContent = dark ? '☀ Light theme' : '☾ Dark theme';
      toggle.setAttribute('aria-label', dark ? 'Switch to the light theme' : 'Switch to the dark theme');
    };
    syncToggle();
    toggle.addEventListener('click', () => {
      const root = document.documentElement;
      root.setAttribute('data-theme', root.getAttribute('data-theme') === 'dark' ? 'light' : 'dark');
      syncToggle();
      drawAll();
    });

    const slo = runs.filter((r) => Array.isArray(r.slo) && r.slo.length).map((r) => el('div', { class: 'slo-row' },
      el('span', { class: 'slo-run' }, labelOf(r.run_id)),
      r.slo.map((s) => {
        const v = String(s?.verdict ?? 'UNKNOWN');
        const needed = isNum(s?.requests_needed) ? `; needs ≥ ${s.requests_needed} requests to confirm` : '';
        const measured = isNum(s?.measured) ? ` (${num(s.measured)}${needed})` : '';
        const detail = typeof s?.detail === 'string' && s.detail ? `\n${s.detail}` : '';
        return el('span', { class: `badge badge-${cssClass(v)}`,
                            title: `${v.replace('_', ' ')}: ${s?.metric} ${s?.op} ${s?.limit}, measured ${isNum(s?.measured) ? s.measured : 'not measured'}${detail}` },
          el('b', null, v.replace('_', ' ')), ` ${text(s?.metric)} ${opText(s?.op)} ${num(s?.limit)}${measured}`);
      })));

    const when = data.generated_at ? `generated ${data.generated_at}` : null;
    const count = historyOnly ? 'history' : `${runs.length} ${runs.length === 1 ? 'run' : 'runs'}`;
    return el('header', { class: 'page-header' },
      el('div', { class: 'header-top' },
        el('div', { class: 'brand' }, el('span', { class: 'logo' }, 'TrackIQ'), el('span', { class: 'meta' }, [count, when].filter(Boolean).join(' · '))),
        toggle),
      el('div', { class: 'header-main' },
        el('h1', null, text(data.title ?? 'TrackIQ report')),
        es.decision && !historyOnly ? verdictBadge(es.decision, true) : null),
      slo.length ? el('div', { class: 'slo' }, el('div', { class: 'slo-title' }, 'Service-level objectives'), slo) : null);
  }

  function nav(items) {
    return el('nav', { class: 'toc' }, items.map(([id, label]) => el('a', { href: `#${id}` }, label)));
  }

  function summarySection() {
    const es = data.executive_summary;
    const parts = [];
    if (es && typeof es === 'object') {
      parts.push(el('p', { class: 'headline' }, text(es.headline)));
      const findings = Array.isArray(es.findings) ? es.findings.filter((f) => f) : [];
      if (findings.length) {
        parts.push(el('ol', { class: 'findings' }, findings.map((f) => el('li', { class: `finding finding-${cssClass(f.severity)}` },
          el('div', { class: 'finding-tags' },
            el('span', { class: `sev sev-${cssClass(f.severity)}` }, text(f.severity)),
            el('span', { class: 'tag' }, text(f.category)),
            f.blocking ? el('span', { class: 'tag tag-blocking' }, 'blocking') : null,
            f.run_id ? el('span', { class: 'finding-run' }, labelOf(f.run_id)) : null),
          el('div', { class: 'finding-text' }, text(f.text))))));
      } else {
        parts.push(el('p', { class: 'muted' }, 'No findings.'));
      }
    } else {
      parts.push(el('p', { class: 'muted' }, 'No executive summary in this report.'));
    }
    const warnings = runs.filter((r) => Array.isArray(r.warnings) && r.warnings.length);
    if (warnings.length) {
      parts.push(el('div', { class: 'callout callout-warn' }, el('strong', null, 'Warnings'),
        el('ul', null, warnings.flatMap((r) => r.warnings.map((w) => el('li', null,
          runs.length > 1 ? el('span', { class: 'muted' }, `${labelOf(r.run_id)}: `) : null, text(w)))))));
    }
    const n = data.narrative;
    const hasText = n && typeof n.text === 'string' && n.text.trim() !== '';
    const hasError = n && n.error != null && n.error !== '';
    if (n && typeof n === 'object' && (hasText || hasError)) {
      const model = n.model ? String(n.model) : 'unknown model';
      const body = [];
      if (hasError) {
        body.push(el('div', { class: 'callout callout-error' },
          el('strong', null, 'The narrative could not be written. '), text(n.error),
          el('div', { class: 'muted small' }, 'The rule-based summary above is complete without it.')));
      }
      if (hasText) {
        body.push(el('div', { class: 'narrative-text' }, n.text.split(/\n\s*\n/).map((p) => el('p', null, p.trim()))));
      }
      parts.push(el('div', { class: 'narrative' }, el('h3', null, `Narrative by ${model}`),
        el('div', { class: 'muted small' }, 'Written by a language model from this report’s data; check it against the figures.'), body));
    }
    return section('summary', 'Executive summary', parts);
  }

  // The cards come from the page data (at_a_glance, built by html.cpp for every run): an LLM
  // serving run leads with TTFT, TPOT (or ITL), E2EL, output tokens/s and goodput; any other run
  // with latency percentiles, throughput, errors, CV and samples. A card without a value says why.
  function cardsSection() {
    const glance = new Map((Array.isArray(data.at_a_glance) ? data.at_a_glance : []).filter((g) => g && Array.isArray(g.cards))
      .map((g) => [g.run_id, g]));
    const cardValue = (c) => {
      if (!isNum(c.value)) return '—';
      if (!c.metric) return int(c.value);
      if (c.metric === 'latency_cv') return num(c.value, 3);
      return withUnit(c.value, c.unit);
    };
    const rows = runs.map((r) => {
      const g = glance.get(r.run_id);
      const cards = g ? g.cards.filter((c) => c && typeof c === 'object') : [];
      return el('div', { class: `card-row${g?.kind === 'llm' ? ' card-row-llm' : ''}` },
        runs.length > 1 ? runHeading(r.run_id, 'h3') : null,
        el('div', { class: 'stats' }, cards.map((c) => {
          const bad = c.label === 'errors' && isNum(c.value) && c.value > 0;
          return el('div', { class: `stat ${bad ? 'stat-bad' : ''}`, 'data-metric': c.metric || c.label, title: c.metric || null },
            el('div', { class: 'stat-label' }, text(c.label)),
            el('div', { class: 'stat-value' }, cardValue(c)),
            c.missing ? el('div', { class: 'stat-note' }, String(c.missing)) : null);
        }),
        cards.length ? null : el('p', { class: 'muted' }, 'No summary figures for this run.')));
    });
    return section('cards', 'At a glance', rows.length ? rows : el('p', { class: 'muted' }, 'No runs in this report.'));
  }

  function regressionSection() {
    const cmp = data.comparison;
    const metrics = Array.isArray(cmp.metrics) ? cmp.metrics.filter((m) => m) : [];
    const head = ['Metric', 'Baseline', 'Current', 'Change', 'Threshold', 'Severity', 'Confidence', 'p-value', 'Verdict', 'Reason'];
    const rows = metrics.map((m) => {
      // The tail share changes in percentage points; every other metric in percent.
      const points = m.change_unit === 'percentage points';
      const worse = (m.direction === 'lower' && m.change_pct > 0) || (m.direction === 'higher' && m.change_pct < 0);
      const better = (m.direction === 'lower' && m.change_pct < 0) || (m.direction === 'higher' && m.change_pct > 0);
      return el('tr', { class: `verdict-row-${cssClass(m.verdict)}` },
        el('td', { class: 'metric' }, el('code', null, breakable(text(m.metric)))),
        el('td', { class: 'num' }, withUnit(m.baseline, m.unit)),
        el('td', { class: 'num' }, withUnit(m.current, m.unit)),
        el('td', { class: `num ${worse ? 'worse' : better ? 'better' : ''}` },
          points && isNum(m.change_pct) ? `${m.change_pct > 0 ? '+' : ''}${num(m.change_pct, 2)} pp` : pct(m.change_pct)),
        el('td', { class: 'num' }, isNum(m.threshold_pct) ? `${num(m.threshold_pct, 3)} ${points ? 'pp' : '%'}` : '—'),
        el('td', null, el('span', { class: `sev sev-${cssClass(m.severity)}` }, text(m.severity))),
        el('td', null, text(m.confidence)),
        el('td', { class: `num${m.tested === false ? ' wrap' : ''}` }, m.tested === false ? 'not tested' : pValue(m.p_value)),
        el('td', null, verdictBadge(m.verdict)),
        el('td', { class: 'reason' }, text(m.reason)));
    });
    const notes = Array.isArray(cmp.notes) ? cmp.notes : [];
    return section('regressions', 'Regression check',
      el('div', { class: 'compare-head' },
        el('span', null, 'baseline ', el('strong', null, labelOf(cmp.baseline_run)), ' → current ', el('strong', null, labelOf(cmp.current_run))),
        verdictBadge(cmp.verdict),
        cmp.same_hardware === false ? el('span', { class: 'tag tag-warn' }, 'different hardware')
          : cmp.same_hardware === true ? el('span', { class: 'tag' }, 'same hardware') : null,
        cmp.samples_used === true ? el('span', { class: 'tag' }, 'tested on raw samples')
          : cmp.samples_used === false ? el('span', { class: 'tag tag-warn' }, 'summaries only (no raw samples)') : null),
      notes.length ? el('ul', { class: 'notes' }, notes.map((n) => el('li', null, text(n)))) : null,
      el('div', { class: 'table-wrap' }, el('table', { class: 'data regressions' },
        el('thead', null, el('tr', null, head.map((h) => el('th', null, h)))),
        el('tbody', null, rows.length ? rows : el('tr', null, el('td', { colspan: head.length, class: 'muted' }, 'No metrics compared.'))))));
  }

  function comparisonSection() {
    const bars = (Array.isArray(chartData.bars) ? chartData.bars : []).filter((b) => b && Array.isArray(b.runs) && b.runs.length);
    const boxes = chartRuns.filter((c) => c.box).map((c) => ({ label: labelOf(c.run_id), runId: c.run_id, box: c.box }));
    const grid = el('div', { class: 'chart-grid chart-grid-bars' },
      bars.map((b) => chart('bars', `${b.metric}${unitText(b.unit) ? ` (${unitText(b.unit)})` : ''}`, 240, barsChart(b),
                            b.runs.some((r) => r && isNum(r.ci_low) && isNum(r.ci_high)) ? `error bars: ${ciName}` : null)));
    const boxBlock = boxes.length >= 2
      ? el('div', { class: 'chart-grid' }, chart('box', 'Latency distribution by run', 280, boxChart(boxes), 'box: q1–q3, line: median, whiskers: min–max'))
      : null;

    const names = [];
    const preferred = ['latency_p50_ms', 'latency_p99_ms', 'latency_mean_ms', 'latency_cv', 'throughput_samples_per_s'];
    for (const p of preferred) if (runs.some((r) => r.metrics && p in r.metrics)) names.push(p);
    const rest = new Set();
    runs.forEach((r) => Object.keys(r.metrics || {}).forEach((k) => { if (!preferred.includes(k)) rest.add(k); }));
    names.push(...[...rest].sort());
    const table = el('table', { class: 'data metrics' },
      el('thead', null, el('tr', null, el('th', null, 'Metric'), runs.map((r) => el('th', { class: 'num' }, runHeading(r.run_id, 'span'))))),
      el('tbody', null, names.map((name) => {
        const values = runs.map((r) => r.metrics?.[name]);
        const dir = values.find((m) => m)?.direction;
        const nums = values.map((m) => m?.value).filter(isNum);
        const best = dir === 'lower' ? Math.min(...nums) : dir === 'higher' ? Math.max(...nums) : null;
        return el('tr', null, el('td', { class: 'metric' }, el('code', null, breakable(name))),
          values.map((m) => el('td', { class: `num ${isNum(best) && nums.length > 1 && m?.value === best ? 'best' : ''}` }, m ? withUnit(m.value, m.unit) : '—')));
      })));
    return section('comparison', 'Cross-run comparison',
      bars.length ? grid : null, boxBlock,
      el('h3', null, 'Metrics across runs'),
      el('p', { class: 'muted small' }, 'Bold: the best value of the row, by the metric’s direction.'),
      el('div', { class: 'table-wrap' }, table));
  }

  function tradeoffSection() {
    const t = chartData.tradeoff;
    const llm = t.llm && typeof t.llm === 'object';
    const token = t.llm?.token_latency === 'itl' ? 'ITL' : 'TPOT';
    const over = tradeoffAxisName(t.axis).replace(/ \(.*\)$/, '');
    return section('tradeoff', 'Trade-off',
      llm ? el('div', { class: 'chart-grid chart-grid-pair' },
        chart('tradeoff-ttft', `Time to first token vs ${over}`, 260, llmTradeoffChart(t, 'ttft', 'TTFT')),
        chart('tradeoff-token', `${token === 'ITL' ? 'Inter-token latency' : 'Time per output token'} vs ${over}`, 260,
              llmTradeoffChart(t, 'token', token))) : null,
      el('div', { class: 'chart-grid' }, chart('tradeoff', llm ? 'Request latency and throughput' : 'Latency and throughput', 300, tradeoffChart(t))),
      optimaLine(t));
  }

  // The sweep's optima under its chart: the most samples/s and the lowest p99, each with its run.
  function optimaLine(t) {
    const optima = Array.isArray(t.optima) ? t.optima.filter((o) => o && isNum(o.value)) : [];
    if (!optima.length) return null;
    const axisName = tradeoffAxisName(t.axis).replace(/ \(.*\)$/, '');
    const text = optima.map((o) => `${o.kind === 'throughput' ? 'Optimum for throughput' : 'Optimum for latency'}: ` +
      `${axisName} ${num(o.x)} (${o.label}), ${num(o.value)} ${o.unit}`).join(' · ');
    return el('p', { class: 'small', id: 'tradeoff-optima' }, text);
  }

  function runSection(c, i) {
    const missing = c.timeline == null && c.histogram == null && c.cdf == null;
    const why = NO_SAMPLES;
    const blocks = [];
    blocks.push(c.histogram ? chart('histogram', 'Latency histogram', 240, histogramChart(c), 'log-spaced bins')
                            : placeholder('Latency histogram', why));
    blocks.push(c.cdf ? chart('cdf', 'Latency CDF', 240, cdfChart(c), 'dashed: 50 % and 99 %')
                      : placeholder('Latency CDF', why));
    blocks.push(c.box ? chart('box', 'Box plot', 240, boxChart([{ label: labelOf(c.run_id), runId: c.run_id, box: c.box }]))
                      : placeholder('Box plot', why));
    const timeline = c.timeline
      ? chart('timeline', 'Latency over time', 320, timelineChart(c))
      : placeholder('Latency over time', why);
    const samples = isNum(c.sample_count) ? `${int(c.sample_count)} samples` : null;
    const buckets = c.timeline && Array.isArray(c.timeline.t_s) ? `${int(c.timeline.t_s.length)} time buckets (min and max each)` : null;
    return el('section', { id: `run-${i + 1}`, class: 'section run' },
      el('h2', null, runs.length > 1 || chartRuns.length > 1 ? `Run ${i + 1}: ` : 'Run: ', labelOf(c.run_id)),
      el('p', { class: 'muted small' }, [samples, buckets, missing ? 'no raw samples in this run: only its summary figures are shown' : null].filter(Boolean).join(' · ') || null),
      el('div', { class: 'chart-grid chart-grid-run' }, blocks),
      el('div', { class: 'chart-grid' }, timeline));
  }

  // --- history (report --history): one metric over the stored runs of one series, in run order,
  // with each segment's mean and a marker before the first run of each change point's new level.
  function historyChart(h) {
    const pts = Array.isArray(h.points) ? h.points : [];
    const xs = pts.map((_, i) => i);
    const values = pts.map((p) => (isNum(p.value) ? p.value : null));
    const means = pts.map((p) => (isNum(p.segment_mean) ? p.segment_mean : null));
    const unit = h.unit && h.unit !== '1' ? ` ${h.unit}` : '';
    const marks = (Array.isArray(h.change_points) ? h.change_points : []).map((c) => ({
      x: c.index - 0.5, label: `${c.direction} ${isNum(c.magnitude_pct) ? (c.magnitude_pct > 0 ? '+' : '') + num(c.magnitude_pct, 3) + ' %' : ''}`,
    }));
    return (theme, width, ch) => {
      const [cv, cm] = [theme.series[0], theme.series[4]];
      legendEntry(ch, cv, `${h.metric} per run`, () => [1]);
      legendEntry(ch, cm, 'segment mean', () => [2]);
      return new uPlot(baseOpts(theme, width, ch.height, {
        scales: { x: { time: false, range: () => [-0.5, Math.max(0.5, xs.length - 0.5)] } },
        axes: [axis(theme, { label: 'run (oldest first)', values: ticks((v) => num(v, 4)) }),
               axis(theme, { label: `${h.metric}${unit ? ` (${h.unit})` : ''}`, size: 60, values: ticks((v) => num(v, 3)) })],
        series: [{},
          { label: h.metric, stroke: cv, width: 1, points: { show: true, size: 6, stroke: cv, fill: cv } },
          { label: 'segment mean', stroke: cm, width: 2 }],
        cursor: { points: { show: false }, drag: { x: false, y: false } },
        hooks: {
          draw: [(u) => drawMarkers(u, marks, theme.marker)],
          setCursor: [(u) => {
            const i = u.cursor.idx;
            const p = pts[i];
            if (i == null || !p) return setReadout(ch, '');
            setReadout(ch, `#${i} run ${p.run_id} · ${p.started_at || ''} · version ${p.version || '—'} · commit ${p.commit || '—'} · ` +
                           `${num(p.value)}${unit} (segment mean ${num(p.segment_mean)}${unit})`);
          }],
        },
      }), [xs, values, means], ch.plot);
    };
  }

  // --- two sweeps compared (compare SWEEP_A SWEEP_B --report): the curves along the sweep's axis
  // (CMP-5), each metric with a finding drawn for both sweeps, its windows marked; then each point.
  function sweepCurveChart(sc, metric, findings) {
    const axisPoints = Array.isArray(sc.curves?.points) ? sc.curves.points : [];
    const names = Array.isArray(sc.points) ? sc.points : [];
    const rows = axisPoints.map((p) => {
      const cmp = sc.comparisons?.[names.indexOf(p)];
      return (Array.isArray(cmp?.metrics) ? cmp.metrics : []).find((m) => m && m.metric === metric) || null;
    });
    const xs = axisPoints.map((_, i) => i);
    const base = rows.map((m) => (m && isNum(m.baseline) ? m.baseline : null));
    const cur = rows.map((m) => (m && isNum(m.current) ? m.current : null));
    const unit = rows.find((m) => m)?.unit;
    const marks = [];
    for (const f of findings) {
      const a = axisPoints.indexOf(f.from_point), b = axisPoints.indexOf(f.to_point);
      if (a >= 0) marks.push({ x: a, label: `${text(f.verdict)} from here` });
      if (b >= 0 && b !== a) marks.push({ x: b, label: 'to here' });
    }
    return (theme, width, ch) => {
      const [cb, cc] = [theme.series[0], theme.series[1]];
      legendEntry(ch, cb, 'baseline sweep', () => [1]);
      legendEntry(ch, cc, 'current sweep', () => [2]);
      return new uPlot(baseOpts(theme, width, ch.height, {
        scales: { x: { time: false, range: () => [-0.3, Math.max(0.3, xs.length - 0.7)] } },
        axes: [axis(theme, { label: sc.curves?.axis || 'point', values: ticks((v) => (Number.isInteger(v) ? String(axisPoints[v] ?? '') : '')) }),
               axis(theme, { label: `${metric}${unitText(unit) ? ` (${unitText(unit)})` : ''}`, size: 60, values: ticks((v) => num(v, 3)) })],
        series: [{},
          { label: 'baseline', stroke: cb, width: 2, points: { show: true, size: 6, stroke: cb, fill: cb } },
          { label: 'current', stroke: cc, width: 2, points: { show: true, size: 6, stroke: cc, fill: cc } }],
        cursor: { points: { show: false }, drag: { x: false, y: false } },
        hooks: {
          draw: [(u) => drawMarkers(u, marks, theme.marker)],
          setCursor: [(u) => {
            const i = u.cursor.idx;
            const m = i == null ? null : rows[i];
            if (!m) return setReadout(ch, '');
            setReadout(ch, `${axisPoints[i]}: baseline ${withUnit(m.baseline, m.unit)} → current ${withUnit(m.current, m.unit)} ` +
                           `(${pct(m.change_pct)}, ${text(m.verdict)})`);
          }],
        },
      }), [xs, base, cur], ch.plot);
    };
  }

  function sweepComparisonSection() {
    const sc = data.sweep_comparison;
    const cv = sc.curves || {};
    const findings = Array.isArray(cv.findings) ? cv.findings.filter((f) => f) : [];
    const names = Array.isArray(sc.points) ? sc.points : [];
    const comparisons = Array.isArray(sc.comparisons) ? sc.comparisons : [];
    // The metrics to draw: each with a curve finding, else the sweep's headline latency.
    const drawn = [...new Set(findings.map((f) => f.metric))].slice(0, 6);
    if (!drawn.length) {
      const present = new Set(comparisons.flatMap((c) => (Array.isArray(c?.metrics) ? c.metrics : []).map((m) => m?.metric)));
      const first = ['p99_ttft_ms', 'latency_p99_ms', 'latency_p50_ms'].find((m) => present.has(m));
      if (first) drawn.push(first);
    }
    const change = (f) => `${num(f.min_regression, 3)}–${num(f.max_regression, 3)} ${f.change_unit === 'percentage points' ? 'pp' : '%'}`;
    const head = ['Metric', 'Window', 'Worse by', 'p (Fisher)', 'q', 'Severity', 'Confidence', 'Verdict', 'Reason'];
    const curveRows = findings.map((f) => el('tr', { class: `verdict-row-${cssClass(f.verdict)}` },
      el('td', { class: 'metric' }, el('code', null, breakable(text(f.metric)))),
      el('td', null, `${text(f.from_point)} → ${text(f.to_point)}`),
      el('td', { class: 'num worse' }, change(f)),
      el('td', { class: 'num' }, f.tested === false ? 'not tested' : pValue(f.p_value)),
      el('td', { class: 'num' }, pValue(f.q_value)),
      el('td', null, el('span', { class: `sev sev-${cssClass(f.severity)}` }, text(f.severity))),
      el('td', null, text(f.confidence)),
      el('td', null, verdictBadge(f.verdict)),
      el('td', { class: 'reason' }, text(f.reason))));
    const pointRows = names.map((p, i) => {
      const ms = (Array.isArray(comparisons[i]?.metrics) ? comparisons[i].metrics : []).filter((m) => m && m.verdict !== 'PASS');
      return el('tr', { class: `verdict-row-${cssClass(comparisons[i]?.verdict)}` },
        el('td', null, text(p)),
        el('td', null, verdictBadge(comparisons[i]?.verdict)),
        el('td', { class: 'reason' }, ms.length ? ms.map((m) => `${m.metric} ${pct(m.change_pct)} (${m.verdict})`).join(', ') : 'every metric passed'));
    });
    const notes = Array.isArray(cv.notes) ? cv.notes : [];
    return section('sweep-comparison', 'Sweep comparison',
      el('div', { class: 'compare-head' },
        el('span', null, `${names.length} points along `, el('strong', null, text(cv.axis)), ` · ${int(cv.tests)} curve windows tested, ` +
                         `Benjamini–Hochberg at ${num((cv.fdr_level ?? 0.05) * 100, 3)} %`),
        verdictBadge(sc.verdict)),
      notes.length ? el('ul', { class: 'notes' }, notes.map((n) => el('li', null, text(n)))) : null,
      drawn.length ? el('div', { class: 'chart-grid chart-grid-pair' }, drawn.map((m) =>
        chart('curve', `${m} along ${text(cv.axis)}`, 240, sweepCurveChart(sc, m, findings.filter((f) => f.metric === m)),
              findings.some((f) => f.metric === m) ? 'dashed: the window of sustained change' : 'no window of sustained change'))) : null,
      el('h3', null, 'Curves'),
      el('div', { class: 'table-wrap' }, el('table', { class: 'data regressions curves' },
        el('thead', null, el('tr', null, head.map((h) => el('th', null, h)))),
        el('tbody', null, curveRows.length ? curveRows
          : el('tr', null, el('td', { colspan: head.length, class: 'muted' }, 'No window of two or more adjacent points is worse than its threshold.'))))),
      el('h3', null, 'Points'),
      el('div', { class: 'table-wrap' }, el('table', { class: 'data sweep-points' },
        el('thead', null, el('tr', null, ['Point', 'Verdict', 'Metrics that did not pass'].map((h) => el('th', null, h)))),
        el('tbody', null, pointRows))));
  }

  const historyOnly = !runs.length && Array.isArray(data.history) && data.history.length > 0;

  function historySection() {
    const blocks = data.history.map((h) => {
      const pts = Array.isArray(h.points) ? h.points : [];
      const cps = Array.isArray(h.change_points) ? h.change_points : [];
      const unit = h.unit && h.unit !== '1' ? ` ${h.unit}` : '';
      const around = (b, e) => pts.slice(Math.max(0, b), Math.min(pts.length, e))
        .map((p) => `${String(p.run_id).slice(0, 8)} (${p.version || '—'}, ${String(p.commit || '—').slice(0, 10)})`).join(', ');
      const table = cps.length ? el('div', { class: 'table-wrap' }, el('table', { class: 'data' },
        el('thead', null, el('tr', null, ['change', 'first run of the new level', 'before → after', 'p', 'confidence', 'runs before', 'runs after']
          .map((t) => el('th', null, t)))),
        el('tbody', null, cps.map((c) => el('tr', null,
          el('td', null, `${c.direction} ${isNum(c.magnitude_pct) ? (c.magnitude_pct > 0 ? '+' : '') + num(c.magnitude_pct, 3) + ' %' : ''}`),
          el('td', null, el('code', null, c.run_id), ` #${c.index}`),
          el('td', { class: 'num' }, `${num(c.before)} → ${num(c.after)}${unit}`),
          el('td', { class: 'num' }, num(c.p_value, 2)),
          el('td', null, c.confidence),
          el('td', { class: 'pre' }, around(c.index - 3, c.index)),
          el('td', { class: 'pre' }, around(c.index, c.index + 3))))))) :
        el('p', { class: 'muted' }, h.not_tested ? `No change point: ${h.not_tested}` : 'No change point.');
      const starts = new Set(cps.map((c) => c.index));
      const all = pts.length ? el('details', { class: 'history-runs' },
        el('summary', null, `All ${pts.length} runs`),
        el('div', { class: 'table-wrap' }, el('table', { class: 'data' },
          el('thead', null, el('tr', null, ['#', 'run', 'started', 'version', 'commit', 'value', 'segment mean'].map((t) => el('th', null, t)))),
          el('tbody', null, pts.map((p, i) => el('tr', { class: starts.has(i) ? 'history-change' : null },
            el('td', { class: 'num' }, String(i)), el('td', null, el('code', null, p.run_id)), el('td', null, p.started_at || ''),
            el('td', null, p.version || '—'), el('td', null, p.commit || '—'),
            el('td', { class: 'num' }, `${num(p.value)}${unit}`), el('td', { class: 'num' }, `${num(p.segment_mean)}${unit}`))))))) : null;
      return el('div', { class: 'history-series' },
        el('h3', null, el('code', null, h.metric), ` · ${h.series} · ${pts.length} runs`),
        pts.length ? el('div', { class: 'chart-grid' }, chart('history', `${h.metric} over the stored runs`, 280, historyChart(h),
                                                               'dashed: change points; hover a point for its run')) : null,
        table, all);
    });
    return section('history', 'History', blocks);
  }

  function environmentSection() {
    const rows = [
      ['Run ID', (r) => r.run_id],
      ['Started', (r) => r.started_at],
      ['Finished', (r) => r.finished_at],
      ['Host', (r) => r.environment?.hostname],
      ['Hardware fingerprint', (r) => r.environment?.hardware_fingerprint],
      ['CPU', (r) => {
        const c = r.environment?.cpu || {};
        return [c.model, c.logical_cpus ? `${c.logical_cpus} logical` : null, c.physical_cores ? `${c.physical_cores} physical cores` : null,
                c.governor ? `governor ${c.governor}` : null, isNum(c.max_freq_mhz) ? `max ${num(c.max_freq_mhz)} MHz` : null].filter(Boolean).join(' · ');
      }],
      ['Memory', (r) => bytes(r.environment?.memory_total_bytes)],
      ['GPUs', (r) => {
        const g = Array.isArray(r.environment?.gpus) ? r.environment.gpus : [];
        if (!g.length) return r.environment?.gpu_probe ? `none (${r.environment.gpu_probe})` : 'none';
        return g.map((x) => [x?.name, x?.driver ? `driver ${x.driver}` : null, isNum(x?.memory_bytes) ? bytes(x.memory_bytes) : null]
          .filter(Boolean).join(' · ')).join('\n');
      }],
      ['OS', (r) => [r.environment?.os, r.environment?.kernel, r.environment?.arch].filter((s) => s).join(' · ')],
      ['Build', (r) => {
        const b = r.environment?.build || {};
        return [b.trackiq_version ? `trackiq ${b.trackiq_version}` : null, b.compiler, b.build_type, b.debug_build ? 'DEBUG BUILD' : null,
                b.sanitizers ? `sanitizers: ${b.sanitizers}` : null].filter(Boolean).join(' · ');
      }],
      ['Workload', (r) => {
        const w = r.workload || {};
        return [w.backend, w.model, isNum(w.batch_size) ? `batch ${w.batch_size}` : null, w.precision, w.device,
                isNum(w.threads) ? `${w.threads} threads` : null, w.synthetic ? 'SYNTHETIC' : null].filter(Boolean).join(' · ');
      }],
      ['Scenario', (r) => {
        const s = r.scenario || {};
        return [s.name, isNum(s.qps) ? `${num(s.qps)} queries/s target` : null, isNum(s.workers) ? `${s.workers} workers` : null,
                isNum(s.iterations) ? `≥ ${int(s.iterations)} queries` : null, isNum(s.duration_ns) ? `≥ ${num(s.duration_ns / 1e9)} s` : null,
                isNum(s.seed) ? `seed ${s.seed}` : null].filter(Boolean).join(' · ');
      }],
      ['Labels', (r) => {
        const l = r.labels || {};
        const extra = l.extra && typeof l.extra === 'object' ? Object.entries(l.extra).map(([k, v]) => `${k}=${v}`) : [];
        return [[l.product, l.version].filter((s) => s).join(' '), l.branch ? `branch ${l.branch}` : null,
                l.commit ? `commit ${l.commit}` : null, l.ci ? 'CI' : 'local', ...extra].filter(Boolean).join(' · ');
      }],
      ['Telemetry', (r) => {
        const t = r.telemetry || {};
        return [t.available ? 'sampled' : 'not sampled', t.reason].filter((s) => s).join(': ');
      }],
      ['Errors', (r) => {
        const e = r.errors || {};
        const by = e.by_class && typeof e.by_class === 'object' ? Object.entries(e.by_class).map(([k, v]) => `${k} ${v}`) : [];
        return [int(e.total), by.length ? `(${by.join(', ')})` : null].filter(Boolean).join(' ') +
               (Array.isArray(e.examples) && e.examples.length ? `\n${e.examples.slice(0, 3).join('\n')}` : '');
      }],
    ];
    const table = el('table', { class: 'data env' },
      el('thead', null, el('tr', null, el('th', null, ''), runs.map((r) => el('th', null, runHeading(r.run_id, 'span'))))),
      el('tbody', null, rows.map(([label, get]) => el('tr', null, el('th', { scope: 'row' }, label), runs.map((r) => {
        let v;
        try { v = get(r); } catch (e) { v = null; }
        return el('td', { class: 'pre' }, text(v));
      })))));
    return section('environment', 'Environment', el('div', { class: 'table-wrap' }, table));
  }

  // ---------------------------------------------------------------------------------------------
  // Build

  function build() {
    // A page of history only (`trackiq history --html`): no runs to summarise or verdict to show.
    const items = historyOnly ? [] : [['summary', 'Summary'], ['cards', 'At a glance']];
    const sections = historyOnly ? [] : [summarySection(), cardsSection()];
    if (data.comparison && typeof data.comparison === 'object') {
      items.push(['regressions', 'Regressions']);
      sections.push(regressionSection());
    }
    if (data.sweep_comparison && typeof data.sweep_comparison === 'object') {
      items.push(['sweep-comparison', 'Sweep comparison']);
      sections.push(sweepComparisonSection());
    }
    if (runs.length >= 2 || chartRuns.length >= 2) {
      items.push(['comparison', 'Comparison']);
      sections.push(comparisonSection());
    }
    if (chartData.tradeoff && typeof chartData.tradeoff === 'object') {
      items.push(['tradeoff', 'Trade-off']);
      sections.push(tradeoffSection());
    }
    chartRuns.forEach((c, i) => {
      items.push([`run-${i + 1}`, chartRuns.length > 1 ? `Run ${i + 1}` : 'Charts']);
      sections.push(runSection(c, i));
    });
    if (Array.isArray(data.history) && data.history.length) {
      items.push(['history', 'History']);
      sections.push(historySection());
    }
    if (runs.length) {
      items.push(['environment', 'Environment']);
      sections.push(environmentSection());
    }
    app.textContent = '';
    append(app, [header(), nav(items), el('main', null, sections),
                 el('footer', { class: 'page-footer' }, 'TrackIQ report · self-contained: no network access · charts drawn with uPlot')]);
    drawAll();

    // Keep charts as wide as their boxes (window resizes, print layout).
    let pending = 0;
    const fit = () => {
      pending = 0;
      for (const c of charts) {
        const w = Math.max(200, Math.floor(c.plot.clientWidth));
        if (c.u && Math.abs(c.u.width - w) >= 1) c.u.setSize({ width: w, height: c.height });
      }
    };
    window.addEventListener('resize', () => { if (!pending) pending = setTimeout(fit, 100); });
    // Entering and leaving print layout (also headless --print-to-pdf): by the time this fires
    // the boxes have their print widths and the print colours (always light), so the charts are
    // redrawn for the page instead of being scaled.
    const print = window.matchMedia ? window.matchMedia('print') : null;
    if (print && print.addEventListener) print.addEventListener('change', drawAll);
  }

  try {
    if (typeof uPlot === 'undefined') throw new Error('the charting library (uPlot) is not loaded');
    build();
  } catch (e) {
    console.error('trackiq: the report could not be built:', e);
    app.appendChild(el('div', { class: 'callout callout-error' }, `The report could not be built: ${e.message}`));
  }
  // uPlot commits its first draw in a microtask queued by each constructor; this one runs after.
  Promise.resolve().then(() => { window.__trackiqReady = true; });
})();
