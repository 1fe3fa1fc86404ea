// TrackIQ dashboard (SRV-3): the single page `trackiq serve` answers at /, over its REST API.
//
// Served from the binary's embedded assets (src/server/dashboard.cpp) after uPlot's IIFE build,
// whose global `uPlot` it uses, and common.js (TrackIQCommon, shared with the report); no network beyond the server it came from, no modules, no bundler.
// Views are chosen by the location hash, so every view is a link that can be shared:
//   #/runs?product=&version=&hardware=&label=K=V&scenario=&q=&limit=&cursor=   the runs table
//   #/run/ID                                   one run: key metrics, latency charts
//   #/compare?base=A&current=B                 the verdict table with reasons (/api/v1/compare)
//   #/history?metric=M&product=…&cp=N          a series with its change points; cp: runs around one
//   #/changes                                  change points over the store (/api/v1/changes)
//   #/baselines                                the baselines
//   #/telemetry?channel=NAME                   this server's machine, the last 5 minutes, live
// Every string from the API may come from untrusted result files: it reaches the page only
// through textContent, attribute setters and canvas text, never through innerHTML.
// The browser test (tests/browser/check_dashboard.mjs) waits for data-state="ready" on #view with
// data-hash equal to location.hash.
(function () {
  'use strict';

  const { el, append, isNum, num, unitText, unitSuffix, withUnit, cssClass, readTheme, alpha, axis } = window.TrackIQCommon;
  const API = '/api/v1';
  const view = document.getElementById('view');
  let generation = 0;     // bumped at each navigation: a late answer of an old view is dropped
  let timers = [];        // intervals of the current view (telemetry polling)
  let charts = [];        // uPlot instances of the current view

  // ---------------------------------------------------------------------------------------------
  // Numbers (the rest is common.js's)

  const signedPct = (v) => (isNum(v) ? (v > 0 ? '+' : '') + num(v, 3) + ' %' : '—');
  const shortId = (id) => String(id || '').slice(0, 8);
  const dash = (s) => (s == null || s === '' ? '—' : String(s));

  // ---------------------------------------------------------------------------------------------
  // Routing: "#/name/param?query"

  function parseHash() {
    const h = location.hash.replace(/^#\/?/, '');
    const q = h.indexOf('?');
    const path = (q < 0 ? h : h.slice(0, q)).split('/').filter(Boolean).map(decodeURIComponent);
    const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
    return { name: path[0] || 'runs', arg: path[1] || '', params };
  }

  function link(name, params, arg) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) {
      if (Array.isArray(v)) v.filter((x) => x !== '').forEach((x) => p.append(k, x));
      else if (v != null && v !== '') p.set(k, v);
    }
    const qs = p.toString();
    return `#/${name}${arg ? '/' + encodeURIComponent(arg) : ''}${qs ? '?' + qs : ''}`;
  }

  async function api(path) {
    const r = await fetch(API + path, { headers: { Accept: 'application/json' } });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) {
      const msg = body && body.error ? body.error : `HTTP ${r.status}`;
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return body;
  }

  function clearView() {
    timers.forEach(clearInterval);
    timers = [];
    charts.forEach((c) => c.destroy());
    charts = [];
    view.replaceChildren();
    view.setAttribute('data-state', 'loading');
    view.setAttribute('data-hash', location.hash);
  }

  // The view of data-hash has drawn what it fetched (the browser test waits for this).
  function ready() { view.setAttribute('data-state', 'ready'); }

  function section(title, ...children) {
    return el('section', { class: 'section' }, title ? el('h2', null, title) : null, ...children);
  }

  function errorBox(message) {
    return el('div', { class: 'callout callout-error', role: 'alert', 'data-error': '' }, message);
  }

  function table(headers, rows, attrs) {
    return el('div', { class: 'table-wrap' },
      el('table', Object.assign({ class: 'data-table' }, attrs || {}),
        el('thead', null, el('tr', null, headers.map((h) => el('th', null, h)))),
        el('tbody', null, rows)));
  }

  function input(name, value, placeholder, attrs) {
    return el('label', { class: 'field' }, el('span', null, placeholder),
      el('input', Object.assign({ name, value: value || '', placeholder, type: 'text', autocomplete: 'off' }, attrs || {})));
  }

  // A chart in `host`: make(width) -> uPlot; redrawn at its container's width on resize.
  function chartBox(title, note, make) {
    const host = el('div', { class: 'chart-host' });
    const fig = el('figure', { class: 'chart' },
      el('div', { class: 'chart-title' }, title, note ? el('span', { class: 'chart-note' }, note) : null), host);
    requestAnimationFrame(() => {
      if (!fig.isConnected) return;
      const u = make(Math.max(300, host.clientWidth || 600), host);
      if (u) charts.push(u);
    });
    return fig;
  }

  // ---------------------------------------------------------------------------------------------
  // Runs

  const RUN_FILTERS = ['product', 'version', 'hardware', 'label', 'scenario'];

  async function runsView(params, gen) {
    const filters = {};
    RUN_FILTERS.forEach((k) => { filters[k] = params.get(k) || ''; });
    const search = params.get('q') || '';
    const cursor = params.get('cursor') || '';
    const prev = params.getAll('prev');
    const limit = /^[0-9]{1,4}$/.test(params.get('limit') || '') ? params.get('limit') : '25';

    const form = el('form', { class: 'filters', id: 'run-filters' },
      RUN_FILTERS.map((k) => input(k, filters[k], k === 'label' ? 'label (KEY=VALUE)' : k)),
      input('q', search, 'search (id, product, version, commit, label…)', { type: 'search' }),
      el('button', { type: 'submit', class: 'btn' }, 'Filter'),
      el('a', { href: '#/runs', class: 'btn btn-plain' }, 'Clear'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      const p = {};
      for (const [k, v] of fd.entries()) if (String(v).trim() !== '') p[k] = String(v).trim();
      location.hash = link('runs', p);
    });
    const compareBar = el('div', { class: 'compare-bar' });
    const holder = el('div', null);
    view.append(section('Runs', form, compareBar, holder));

    const query = new URLSearchParams();
    RUN_FILTERS.forEach((k) => { if (filters[k]) query.set(k, filters[k]); });
    query.set('limit', limit);
    if (cursor) query.set('cursor', cursor);
    if (search) query.set('q', search);  // searched by the server over the whole store, paged like the filters
    const page = await api('/runs?' + query.toString());
    if (gen !== generation) return;
    const runs = page.runs;

    const selected = [];
    function updateCompare() {
      compareBar.replaceChildren();
      if (selected.length === 2) {
        compareBar.append(el('a', { class: 'btn', id: 'compare-selected',
          href: link('compare', { base: selected[0], current: selected[1] }) }, 'Compare the two selected runs'));
      } else {
        compareBar.append(el('span', { class: 'muted small' }, 'Tick two runs to compare them (the first ticked is the base).'));
      }
    }
    updateCompare();
    const rows = runs.map((r) => {
      const box = el('input', { type: 'checkbox', 'aria-label': `select run ${shortId(r.run_id)}`, 'data-run': r.run_id });
      box.addEventListener('change', () => {
        const i = selected.indexOf(r.run_id);
        if (box.checked && i < 0) selected.push(r.run_id);
        if (!box.checked && i >= 0) selected.splice(i, 1);
        while (selected.length > 2) {
          const dropped = selected.shift();
          const other = holder.querySelector(`input[data-run="${CSS.escape(dropped)}"]`);
          if (other) other.checked = false;
        }
        updateCompare();
      });
      return el('tr', { 'data-run-row': r.run_id },
        el('td', null, box),
        el('td', null, el('a', { href: link('run', null, r.run_id), class: 'run-link' }, el('code', null, shortId(r.run_id)))),
        el('td', { class: 'nowrap' }, dash(r.started_at)),
        el('td', null, dash(r.product)), el('td', null, dash(r.version)),
        el('td', null, dash(r.workload)), el('td', null, dash(r.scenario)),
        el('td', null, el('code', null, dash(String(r.hardware_fingerprint || '').slice(0, 12)))),
        el('td', { class: 'num' }, r.samples ? r.samples.toLocaleString('en-US') : '—'));
    });
    holder.append(
      el('p', { class: 'muted small', id: 'runs-count' },
        `${runs.length} run${runs.length === 1 ? '' : 's'} on this page` +
        (search ? ` matching “${search}”` : '')),
      runs.length ? table(['', 'run', 'started (UTC)', 'product', 'version', 'workload', 'scenario', 'hardware', 'samples'],
        rows, { id: 'runs-table' }) : el('p', { class: 'muted' }, 'No run matches.'));
    const pager = el('div', { class: 'pager' });
    const base = {};
    RUN_FILTERS.forEach((k) => { base[k] = filters[k]; });
    base.q = search;
    if (limit !== '25') base.limit = limit;
    if (cursor) {
      pager.append(el('a', { class: 'btn btn-plain', href: link('runs', Object.assign({}, base,
        { cursor: prev.length ? prev[prev.length - 1] : '', prev: prev.slice(0, -1) })) }, '← Previous page'));
    }
    if (page.next_cursor) {
      pager.append(el('a', { class: 'btn btn-plain', id: 'next-page', href: link('runs', Object.assign({}, base,
        { cursor: page.next_cursor, prev: cursor ? prev.concat([cursor]) : prev.concat(['']) })) }, 'Next page →'));
    }
    holder.append(pager);
  }

  // ---------------------------------------------------------------------------------------------
  // One run

  const KEY_METRICS = ['latency_p50_ms', 'latency_p90_ms', 'latency_p99_ms', 'latency_mean_ms',
    'throughput_queries_per_s', 'mean_ttft_ms', 'p99_ttft_ms', 'mean_tpot_ms', 'error_rate'];

  async function runView(id, gen) {
    const r = await api('/runs/' + encodeURIComponent(id));
    if (gen !== generation) return;
    const labels = r.labels || {};
    const env = r.environment || {};
    const wl = r.workload || {};
    const workload = [wl.backend, wl.model].filter(Boolean).join(':');
    const metrics = r.metrics || {};
    const names = Object.keys(metrics);
    const key = KEY_METRICS.filter((k) => names.includes(k));
    const rest = names.filter((k) => !key.includes(k));
    const card = (name) => el('div', { class: 'stat', 'data-metric': name },
      el('div', { class: 'stat-label' }, name),
      el('div', { class: 'stat-value' }, withUnit(metrics[name].value, metrics[name].unit)),
      el('div', { class: 'stat-note' }, `${metrics[name].direction || ''} is better`.replace(/^neutral is better$/, 'neutral'),
        ' · ', el('a', { href: link('history', { metric: name, run: r.run_id }) }, 'history')));
    view.append(section(null,
      el('h1', { class: 'run-title' }, 'Run ', el('code', null, r.run_id)),
      el('p', { class: 'muted' }, `${dash(labels.product)} ${dash(labels.version)} · ${workload} · ${dash((r.scenario || {}).name)} · ` +
        `started ${dash(r.started_at)} · host ${dash(env.hostname)} · hardware ${dash(env.hardware_fingerprint)}` +
        (labels.commit ? ` · commit ${labels.commit}` : '')),
      el('p', null,
        el('a', { class: 'btn btn-plain', href: link('runs', { product: labels.product }) }, `Runs of ${dash(labels.product)}`), ' ',
        el('a', { class: 'btn btn-plain', href: link('compare', { current: r.run_id }) }, 'Compare with…'), ' ',
        el('a', { class: 'btn btn-plain', href: `${API}/runs/${encodeURIComponent(r.run_id)}` }, 'JSON'))),
    section('Key metrics', el('div', { class: 'stats', id: 'key-metrics' }, key.map(card)),
      rest.length ? el('details', { class: 'more-metrics' }, el('summary', null, `${rest.length} more metrics`),
        el('div', { class: 'stats' }, rest.map(card))) : null));

    const chartGrid = el('div', { class: 'chart-grid chart-grid-pair', id: 'run-charts' });
    view.append(section('Latency', chartGrid));
    if (!r.latency) {
      chartGrid.append(el('p', { class: 'muted' }, 'No latency data in this run.'));
      return;
    }
    let samples = null;
    try {
      samples = await api('/runs/' + encodeURIComponent(r.run_id) + '/samples?format=json');
    } catch (e) {
      if (e.status !== 404) throw e;
    }
    if (gen !== generation) return;
    if (!samples || !samples.latency_ns || !samples.latency_ns.length) {
      chartGrid.append(el('p', { class: 'muted', id: 'no-samples' }, 'This run kept no per-request samples: only its summary and histogram.'));
      return;
    }
    const ms = samples.latency_ns.map((v) => v / 1e6);
    chartGrid.append(histogramChart(ms), timelineChart(ms, samples.end_ns));
  }

  function histogramChart(ms) {
    const sorted = ms.slice().sort((a, b) => a - b);
    const lo = sorted[0], hi = sorted[sorted.length - 1];
    const bins = Math.min(60, Math.max(10, Math.round(Math.sqrt(ms.length))));
    const width = (hi - lo) / bins || 1;
    const xs = [], counts = new Array(bins).fill(0);
    for (let i = 0; i < bins; i++) xs.push(lo + (i + 0.5) * width);
    for (const v of ms) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
    const q = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
    return chartBox('Latency distribution', `${ms.length.toLocaleString('en-US')} requests · p50 ${num(q(0.5))} ms · p99 ${num(q(0.99))} ms`,
      (w, host) => {
        const t = readTheme();
        return new uPlot({ width: w, height: 240, legend: { show: false }, cursor: { drag: { x: false, y: false } },
          scales: { x: { time: false } },
          axes: [axis(t, { label: 'latency (ms)' }), axis(t, { label: 'requests' })],
          series: [{}, { stroke: t.series[0], fill: alpha(t.series[0], 0.3), points: { show: false },
            paths: uPlot.paths.bars({ size: [0.95, 100] }) }],
        }, [xs, counts], host);
      });
  }

  function timelineChart(ms, endNs) {
    const xs = endNs && endNs.length === ms.length ? endNs.map((v) => v / 1e9) : ms.map((_, i) => i);
    const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
    const x = order.map((i) => xs[i]), y = order.map((i) => ms[i]);
    return chartBox('Latency over the run', endNs && endNs.length ? 'each request at its completion' : 'each request in order',
      (w, host) => {
        const t = readTheme();
        return new uPlot({ width: w, height: 240, legend: { show: false }, cursor: { drag: { x: false, y: false } },
          scales: { x: { time: false } },
          axes: [axis(t, { label: endNs && endNs.length ? 'time (s)' : 'request' }), axis(t, { label: 'latency (ms)' })],
          series: [{}, { stroke: t.series[0], width: 0, points: { show: true, size: 3, fill: t.series[0] } }],
        }, [x, y], host);
      });
  }

  // ---------------------------------------------------------------------------------------------
  // Compare

  async function compareView(params, gen) {
    const base = params.get('base') || '', current = params.get('current') || '';
    const form = el('form', { class: 'filters', id: 'compare-form' },
      input('base', base, 'base (run id, prefix or baseline)'),
      input('current', current, 'current (run id or prefix)'),
      el('button', { type: 'submit', class: 'btn' }, 'Compare'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      location.hash = link('compare', { base: String(fd.get('base')).trim(), current: String(fd.get('current')).trim() });
    });
    const out = el('div', { id: 'comparison' });
    view.append(section('Compare two runs', form, out));
    if (!base || !current) {
      out.append(el('p', { class: 'muted' }, 'Give a base and a current run (or tick two runs in the runs table).'));
      return;
    }
    const c = await api('/compare?' + new URLSearchParams({ base, current }).toString());
    if (gen !== generation) return;
    const verdict = String(c.verdict || '');
    out.append(
      el('div', { class: 'compare-head' },
        el('span', { class: `verdict verdict-big verdict-${cssClass(verdict)}`, id: 'verdict' }, verdict),
        el('span', null, 'base ', el('a', { href: link('run', null, c.baseline_run) }, el('code', null, shortId(c.baseline_run))),
          ' → current ', el('a', { href: link('run', null, c.current_run) }, el('code', null, shortId(c.current_run))))),
      el('p', { class: 'muted small' }, `${c.samples_used ? 'per-request samples' : 'summaries'} · ` +
        `${c.tests} tests at FDR ${num(c.fdr_level)} · noise: ${dash(c.noise_source)}` + (c.same_hardware ? '' : ' · different hardware')),
      (c.notes || []).length ? el('ul', { class: 'callout callout-warn' }, c.notes.map((n) => el('li', null, n))) : null,
      table(['metric', 'base', 'current', 'change', 'verdict', 'reason'],
        (c.metrics || []).map((m) => el('tr', { 'data-metric': m.metric },
          el('td', null, m.metric),
          el('td', { class: 'num' }, withUnit(m.baseline, m.unit)),
          el('td', { class: 'num' }, withUnit(m.current, m.unit)),
          el('td', { class: 'num' }, m.change_unit === 'percentage points' ? (isNum(m.change_pct) ? num(m.change_pct, 3) + ' pp' : '—') : signedPct(m.change_pct)),
          el('td', null, el('span', { class: `verdict verdict-${cssClass(m.verdict)}` }, m.verdict)),
          el('td', { class: 'reason' }, m.reason))), { id: 'verdict-table' }));
  }

  // ---------------------------------------------------------------------------------------------
  // History of a series, with its change points

  const SERIES_KEYS = ['product', 'hardware', 'workload', 'scenario', 'config'];

  async function historyView(params, gen) {
    const metric = params.get('metric') || 'latency_p99_ms';
    const filters = {};
    SERIES_KEYS.forEach((k) => { filters[k] = params.get(k) || ''; });
    const cpIndex = params.has('cp') ? Number(params.get('cp')) : null;
    const form = el('form', { class: 'filters', id: 'history-form' },
      input('metric', metric, 'metric'), SERIES_KEYS.map((k) => input(k, filters[k], k)),
      el('button', { type: 'submit', class: 'btn' }, 'Show'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      const p = {};
      for (const [k, v] of fd.entries()) if (String(v).trim() !== '') p[k] = String(v).trim();
      location.hash = link('history', p);
    });
    const out = el('div', { id: 'history' });
    view.append(section('History of a series', form, out));
    const query = new URLSearchParams({ metric });
    // run=ID (a run page's link): the series of that run, configuration included.
    if (params.get('run')) query.set('run', params.get('run'));
    else SERIES_KEYS.forEach((k) => { if (filters[k]) query.set(k, filters[k]); });
    let h;
    try {
      h = await api('/history?' + query.toString());
    } catch (e) {
      if (gen !== generation) return;
      out.append(errorBox(e.message));
      return;
    }
    if (gen !== generation) return;
    const key = h.series || {};
    const here = Object.assign({ metric: h.metric }, key);
    const unit = unitText(h.unit);
    out.append(el('p', { class: 'muted' },
      `${h.metric} (${h.better} is better) · ${dash(key.product)} / ${dash(key.hardware)} / ${dash(key.workload)} / ${dash(key.scenario)} / ${dash(key.config)} · ${h.n} runs · ` +
      `${h.change_points.length} change point${h.change_points.length === 1 ? '' : 's'}` + (h.not_tested ? ` · ${h.not_tested}` : '')));
    const xs = h.points.map((p) => p.index);
    const values = h.points.map((p) => p.value);
    const means = h.points.map((p) => p.segment_mean);
    const cps = h.change_points;
    const goTo = (i) => { location.hash = link('history', Object.assign({}, here, { cp: i })); };
    out.append(chartBox(`${h.metric}${unit ? ' (' + unit.trim() + ')' : ''}`,
      'dots: runs · solid: segment means · dashed: change points (click a marker for the runs around it)', (w, host) => {
        const t = readTheme();
        const markers = cps.map((cp) => {
          const b = el('button', { type: 'button', class: `cp-marker cp-${cssClass(cp.direction)}`, 'data-cp': cp.index,
            title: `${cp.direction} ${signedPct(cp.magnitude_pct)} at run ${shortId(cp.run_id)} (p ${num(cp.p_value, 2)})`,
            'aria-label': `change point at run ${cp.index}: ${cp.direction}` },
          cp.direction === 'regression' ? '▲' : cp.direction === 'improvement' ? '▼' : '◆');
          b.addEventListener('click', () => goTo(cp.index));
          return b;
        });
        // Segment boundaries: [begin, end) between change points.
        const bounds = [0, ...cps.map((c) => c.index), xs.length];
        const u = new uPlot({
          width: w, height: 300, legend: { show: false },
          cursor: { drag: { x: false, y: false }, points: { show: false } },
          scales: { x: { time: false, range: (_, lo, hi) => [lo - 0.5, hi + 0.5] } },
          axes: [axis(t, { label: 'run (oldest first)' }), axis(t, { label: h.metric })],
          series: [{}, { stroke: t.series[0], paths: () => null, points: { show: true, size: 7, fill: t.series[0] } }],
          hooks: {
            draw: [(uu) => {
              const ctx = uu.ctx;
              const top = uu.bbox.top, bottom = uu.bbox.top + uu.bbox.height;
              ctx.save();
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.strokeStyle = t.series[1];
              for (let s = 0; s + 1 < bounds.length; s++) {
                if (bounds[s + 1] <= bounds[s]) continue;
                const y = uu.valToPos(means[bounds[s]], 'y', true);
                ctx.beginPath();
                ctx.moveTo(uu.valToPos(bounds[s] - 0.5, 'x', true), y);
                ctx.lineTo(uu.valToPos(bounds[s + 1] - 0.5, 'x', true), y);
                ctx.stroke();
              }
              ctx.setLineDash([5, 4]);
              cps.forEach((cp, i) => {
                const x = uu.valToPos(cp.index - 0.5, 'x', true);
                ctx.strokeStyle = cp.direction === 'regression' ? t.block : cp.direction === 'improvement' ? t.approve : t.marker;
                ctx.beginPath();
                ctx.moveTo(x, top);
                ctx.lineTo(x, bottom);
                ctx.stroke();
                markers[i].style.left = `${uu.valToPos(cp.index - 0.5, 'x')}px`;
              });
              ctx.restore();
            }],
          },
        }, [xs, values], host);
        markers.forEach((b) => u.over.appendChild(b));
        return u;
      }));
    out.append(el('h3', null, 'Change points'),
      cps.length ? table(['first run after', 'version', 'before → after', 'change', 'kind', 'p', 'confidence', ''],
        cps.map((cp) => {
          const p = h.points[cp.index];
          return el('tr', { 'data-change': cp.index, class: cp.index === cpIndex ? 'selected' : null },
            el('td', null, el('a', { href: link('run', null, cp.run_id) }, el('code', null, shortId(cp.run_id)))),
            el('td', null, dash(p && p.version)),
            el('td', { class: 'num' }, `${num(cp.before)} → ${num(cp.after)}${unit}`),
            el('td', { class: 'num' }, signedPct(cp.magnitude_pct)),
            el('td', null, el('span', { class: `sev sev-${cp.direction === 'regression' ? 'high' : 'low'}` }, cp.direction)),
            el('td', { class: 'num' }, num(cp.p_value, 2)), el('td', null, cp.confidence),
            el('td', null, el('a', { href: link('history', Object.assign({}, here, { cp: cp.index })), class: 'cp-link' }, 'runs around')));
        }), { id: 'change-points' }) : el('p', { class: 'muted' }, 'No change point in this series.'));

    if (cpIndex != null && Number.isInteger(cpIndex)) {
      const cp = cps.find((c) => c.index === cpIndex);
      const lo = Math.max(0, cpIndex - 3), hi = Math.min(h.points.length, cpIndex + 3);
      const around = h.points.slice(lo, hi);
      out.append(el('div', { id: 'runs-around' },
        el('h3', null, `Runs around the change at #${cpIndex}`),
        cp ? el('p', null, el('a', { class: 'btn', id: 'compare-around',
          href: link('compare', { base: cp.previous_run_id, current: cp.run_id }) }, 'Compare the runs on either side')) : null,
        table(['#', 'run', 'started (UTC)', 'version', 'commit', 'value', 'segment mean'],
          around.map((p) => el('tr', { class: p.index >= cpIndex ? 'after' : 'before' },
            el('td', { class: 'num' }, p.index),
            el('td', null, el('a', { href: link('run', null, p.run_id) }, el('code', null, shortId(p.run_id)))),
            el('td', { class: 'nowrap' }, dash(p.started_at)), el('td', null, dash(p.version)), el('td', null, dash(p.commit)),
            el('td', { class: 'num' }, withUnit(p.value, h.unit)), el('td', { class: 'num' }, withUnit(p.segment_mean, h.unit)))))));
      const target = document.getElementById('runs-around');
      if (target && target.scrollIntoView) target.scrollIntoView({ block: 'nearest' });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Changes over the store, baselines

  async function changesView(params, gen) {
    const since = params.get('since') || '';
    const form = el('form', { class: 'filters' }, input('since', since, 'new since (date or run id)'),
      el('button', { type: 'submit', class: 'btn' }, 'Show'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      location.hash = link('changes', { since: String(new FormData(form).get('since')).trim() });
    });
    const out = el('div', null);
    view.append(section('Recent changes', form, out));
    const c = await api('/changes' + (since ? '?' + new URLSearchParams({ since }).toString() : ''));
    if (gen !== generation) return;
    out.append(el('p', { class: 'muted' }, `${c.series} series · ${c.tests} tested (Benjamini–Hochberg at FDR ${num(c.fdr)}) · ` +
      `${c.new_regressions} new regression${c.new_regressions === 1 ? '' : 's'}`),
    c.changes.length ? table(['kind', 'metric', 'change', 'before → after', 'first run', 'series', 'new', ''],
      c.changes.map((ch) => el('tr', null,
        el('td', null, el('span', { class: `sev sev-${ch.direction === 'regression' ? 'high' : 'low'}` }, ch.direction)),
        el('td', null, ch.metric), el('td', { class: 'num' }, signedPct(ch.magnitude_pct)),
        el('td', { class: 'num' }, `${num(ch.before)} → ${num(ch.after)}${unitSuffix(ch.unit)}`),
        el('td', null, el('a', { href: link('run', null, ch.first_run.run_id) }, el('code', null, shortId(ch.first_run.run_id))),
          ` ${dash(ch.first_run.version)}`),
        el('td', { class: 'small' }, `${ch.series.product} / ${ch.series.workload} / ${ch.series.scenario}`),
        el('td', null, ch.new ? 'yes' : 'no'),
        el('td', null, el('a', { href: link('history', Object.assign({ metric: ch.metric, cp: ch.index }, ch.series)) }, 'history'))))) :
      el('p', { class: 'muted' }, 'No change point in the store.'));
  }

  async function baselinesView(params, gen) {
    const b = await api('/baselines');
    if (gen !== generation) return;
    view.append(section('Baselines', b.baselines.length ? table(['name', 'run', 'product', 'version', 'hardware', 'created'],
      b.baselines.map((x) => el('tr', null, el('td', null, x.name),
        el('td', null, el('a', { href: link('run', null, x.run_id) }, el('code', null, shortId(x.run_id)))),
        el('td', null, dash(x.product)), el('td', null, dash(x.version)),
        el('td', null, el('code', null, String(x.hardware_fingerprint || '').slice(0, 12))), el('td', null, dash(x.created_at)))),
      { id: 'baselines-table' }) :
      el('p', { class: 'muted' }, 'No baseline saved (trackiq baseline save NAME, or POST /api/v1/baselines).')));
  }

  // ---------------------------------------------------------------------------------------------
  // Live telemetry: polled every 2 s

  const PREFERRED = ['cpu.util_pct', 'mem.used_bytes', 'gpu0.util_pct'];

  async function telemetryView(params, gen) {
    const status = el('p', { class: 'muted', id: 'telemetry-status' }, 'Waiting for the first samples…');
    const picker = el('select', { id: 'channel', 'aria-label': 'channel' });
    const latest = el('div', { class: 'stats', id: 'telemetry-latest' });
    const host = el('div', { class: 'chart-host', id: 'telemetry-chart' });
    const notes = el('div', null);
    view.append(section('Live telemetry of this server', el('div', { class: 'filters' },
      el('label', { class: 'field' }, el('span', null, 'channel'), picker)), status, latest, host, notes));
    let chosen = params.get('channel') || '';
    let plot = null, plotFor = '';
    picker.addEventListener('change', () => {
      location.hash = link('telemetry', { channel: picker.value });
    });
    async function tick() {
      let t;
      try {
        t = await api('/telemetry?seconds=300');
      } catch (e) {
        if (gen !== generation) return;
        status.replaceChildren(errorBox(e.message));
        ready();
        return;
      }
      if (gen !== generation) return;
      const names = t.channels.map((c) => c.name);
      if (!chosen || !names.includes(chosen)) chosen = PREFERRED.find((n) => names.includes(n)) || names[0] || '';
      if (picker.options.length !== names.length) {
        picker.replaceChildren(...t.channels.map((c) => el('option', { value: c.name }, `${c.name}${c.unit && c.unit !== '1' ? ' (' + c.unit + ')' : ''}`)));
      }
      picker.value = chosen;
      notes.replaceChildren(...(t.unavailable || []).map((u) => el('p', { class: 'muted small' }, u)));
      const ci = names.indexOf(chosen);
      const unit = ci >= 0 ? t.channels[ci].unit : '';
      const xs = t.t_unix_s;
      const ys = t.values.map((row) => (ci >= 0 ? row[ci] : null));
      status.replaceChildren(el('span', { id: 'telemetry-count', 'data-rows': t.rows_taken }, `${xs.length} samples in the last 5 minutes`),
        ` · every ${num(t.interval_s)} s · ${t.rows_taken} taken since the server started`);
      const last = ys.length ? ys[ys.length - 1] : null;
      latest.replaceChildren(el('div', { class: 'stat' }, el('div', { class: 'stat-label' }, chosen || 'no channel'),
        el('div', { class: 'stat-value', id: 'telemetry-value' }, withUnit(last, unit))));
      if (!xs.length || ci < 0) { ready(); return; }
      if (plot && plotFor === chosen) {
        plot.setData([xs, ys]);
      } else {
        if (plot) { plot.destroy(); charts = charts.filter((c) => c !== plot); }
        const th = readTheme();
        plot = new uPlot({ width: Math.max(300, host.clientWidth || 800), height: 280, legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          axes: [axis(th), axis(th, { label: unit && unit !== '1' ? `${chosen} (${unit})` : chosen })],
          series: [{}, { stroke: th.series[0], width: 2, spanGaps: false, points: { show: false } }],
        }, [xs, ys], host);
        plotFor = chosen;
        charts.push(plot);
      }
      ready();
    }
    await tick();
    timers.push(setInterval(tick, 2000));
  }

  // ---------------------------------------------------------------------------------------------

  const VIEWS = { runs: runsView, run: null, compare: compareView, history: historyView, changes: changesView,
    baselines: baselinesView, telemetry: telemetryView };

  async function route() {
    const gen = ++generation;
    clearView();
    const { name, arg, params } = parseHash();
    document.querySelectorAll('#nav a').forEach((a) => {
      a.classList.toggle('active', a.getAttribute('data-view') === (name === 'run' ? 'runs' : name));
    });
    try {
      if (name === 'run') await runView(arg, gen);
      else if (VIEWS[name]) await VIEWS[name](params, gen);
      else view.append(errorBox(`No view “${name}”.`));
    } catch (e) {
      if (gen !== generation) return;
      view.append(errorBox(e.message));
    }
    if (gen === generation && name !== 'telemetry') ready();
  }

  // Theme toggle, remembered in this browser.
  const toggle = document.getElementById('theme-toggle');
  function setTheme(t) {
    document.documentElement.setAttribute('data-theme', t);
    toggle.textContent = t === 'dark' ? 'Light' : 'Dark';
    try { localStorage.setItem('trackiq-theme', t); } catch (e) { /* private mode */ }
  }
  let stored = null;
  try { stored = localStorage.getItem('trackiq-theme'); } catch (e) { stored = null; }
  setTheme(stored === 'dark' ? 'dark' : 'light');
  toggle.addEventListener('click', () => {
    setTheme(document.documentElement.getAttribute('data-theme') === 'dark' ? 'light' : 'dark');
    route();
  });

  window.addEventListener('hashchange', route);
  if (!location.hash) history.replaceState(null, '', '#/runs');
  route();
})();
