// Headless-Chromium check of TrackIQ HTML reports (docs/report-html.md).
//
//   node tests/browser/check_report.mjs --screenshots DIR [--expect-charts kind1,kind2,...]
//        [--expect-cards metric1,metric2,...] [--viewport WIDTHxHEIGHT] [--fit-tables]
//        [--timeout-ms N] REPORT.html [REPORT2.html ...]
//
// Per report: /usr/bin/chromium (playwright-core from web/node_modules; no browser is
// downloaded), offline, every non-file: request aborted and counted as a failure; any console
// error or page error fails; waits for window.__trackiqReady; every [data-chart] must have drawn
// (a canvas with pixels other than its background, or an SVG with drawn elements); each kind in
// --expect-charts must be present (a tradeoff with its optima line); #theme-toggle must flip data-theme on <html> and leave every
// chart drawn, with different pixels. Full-page screenshots of both themes go to
// DIR/<report name>.<theme>.png. --expect-cards: an "At a glance" card for each metric
// (data-metric) with a value. --viewport sets the window (default 1280x900). --fit-tables: no text
// of a table.data is clipped at that width: every cell's scrollWidth <= its clientWidth, and every
// table ends within its scroll box (.table-wrap, no horizontal scroll) and within the viewport.
// Prints "FILE: what failed" lines; exit 0 only when all pass.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const requireFromWeb = createRequire(path.join(repo, 'web', 'package.json'));

function usage(msg) {
  if (msg) console.error(`check_report: ${msg}`);
  console.error('usage: node tests/browser/check_report.mjs --screenshots DIR [--expect-charts k1,k2] [--expect-cards m1,m2] ' +
                '[--viewport WxH] [--fit-tables] [--timeout-ms N] REPORT.html...');
  process.exit(2);
}

const args = process.argv.slice(2);
let shotDir = null;
let expect = [];
let timeoutMs = 30000;
let cards = [];
let viewport = { width: 1280, height: 900 };
let fitTables = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--screenshots') shotDir = args[++i];
  else if (a === '--expect-charts') expect = String(args[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  else if (a === '--timeout-ms') timeoutMs = Number(args[++i]);
  else if (a === '--expect-cards') cards = String(args[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  else if (a === '--fit-tables') fitTables = true;
  else if (a === '--viewport') {
    const m = /^(\d+)x(\d+)$/.exec(String(args[++i] ?? ''));
    if (!m) usage('--viewport needs WIDTHxHEIGHT, e.g. 1400x900');
    viewport = { width: Number(m[1]), height: Number(m[2]) };
  }
  else if (a === '-h' || a === '--help') usage();
  else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else files.push(a);
}
if (!shotDir) usage('--screenshots DIR is required');
if (!files.length) usage('no report given');
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) usage('--timeout-ms needs a positive number');

let chromium;
try {
  ({ chromium } = requireFromWeb('playwright-core'));
} catch (e) {
  console.error(`check_report: playwright-core not found under ${path.join(repo, 'web', 'node_modules')}: ` +
                'run `npm ci --prefix web --no-audit --no-fund`');
  process.exit(2);
}
const executablePath = process.env.TRACKIQ_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
  console.error(`check_report: no Chromium at ${executablePath} (apt-get install chromium, or set TRACKIQ_CHROMIUM)`);
  process.exit(2);
}
fs.mkdirSync(shotDir, { recursive: true });

// Runs in the page: for each [data-chart], whether it drew, and a fingerprint of its pixels.
// A canvas has drawn when some pixel differs from its most common pixel (the background);
// an SVG when it holds a path/line/rect/circle/polyline/polygon/text with a non-zero box.
function inspectCharts() {
  const hash = (h, v) => (Math.imul(h ^ v, 16777619) >>> 0);
  return [...document.querySelectorAll('[data-chart]')].map((node, index) => {
    const kind = node.getAttribute('data-chart');
    const title = node.closest('figure')?.querySelector('figcaption')?.firstChild?.textContent?.trim() || '';
    let inked = 0;
    let fingerprint = 2166136261;
    for (const c of node.querySelectorAll('canvas')) {
      if (!c.width || !c.height) continue;
      let px;
      try { px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; } catch (e) { continue; }
      const counts = new Map();
      for (let i = 0; i < px.length; i += 4 * 7) {
        const v = (px[i] << 24 | px[i + 1] << 16 | px[i + 2] << 8 | px[i + 3]) >>> 0;
        counts.set(v, (counts.get(v) || 0) + 1);
        fingerprint = hash(fingerprint, v);
      }
      let bg = 0, bgCount = -1;
      for (const [v, n] of counts) if (n > bgCount) { bg = v; bgCount = n; }
      for (const [v, n] of counts) if (v !== bg) inked += n;
    }
    for (const s of node.querySelectorAll('svg')) {
      for (const d of s.querySelectorAll('path, line, rect, circle, ellipse, polyline, polygon, text')) {
        const b = d.getBBox ? d.getBBox() : { width: 0, height: 0 };
        if (b.width > 0 || b.height > 0) inked++;
      }
      fingerprint = hash(fingerprint, s.outerHTML.length);
      const style = getComputedStyle(s);
      for (const ch of [style.color, style.fill, style.stroke].join('|')) fingerprint = hash(fingerprint, ch.charCodeAt(0));
    }
    return { index, kind, title, inked, fingerprint };
  });
}

// Runs in the page: text of a table.data that does not fit. A cell whose content is wider than
// its box (scrollWidth > clientWidth) clips; a table wider than its .table-wrap scrolls sideways;
// a table past the viewport's right edge is cut off.
function inspectTables() {
  const out = [];
  const vw = document.documentElement.clientWidth;
  document.querySelectorAll('table.data').forEach((t, ti) => {
    const name = `table ${ti + 1} (${t.className})`;
    const right = t.getBoundingClientRect().right;
    if (right > vw + 0.5) out.push(`${name} ends at ${right.toFixed(0)} px, past the ${vw} px viewport`);
    const wrap = t.closest('.table-wrap');
    if (wrap && wrap.scrollWidth > wrap.clientWidth) {
      out.push(`${name} is ${wrap.scrollWidth} px wide in a ${wrap.clientWidth} px box (scrolls sideways)`);
    }
    for (const cell of t.querySelectorAll('th, td')) {
      if (cell.scrollWidth > cell.clientWidth) {
        out.push(`${name}: cell "${cell.textContent.trim().slice(0, 40)}" needs ${cell.scrollWidth} px, has ${cell.clientWidth}`);
      }
    }
  });
  return { tables: document.querySelectorAll('table.data').length, problems: out };
}

// Runs in the page: the "At a glance" cards, {metric: value text}.
function inspectCards() {
  const out = {};
  for (const c of document.querySelectorAll('#cards .stat[data-metric]')) {
    const v = c.querySelector('.stat-value')?.textContent?.trim() ?? '';
    const m = c.getAttribute('data-metric');
    if (!(m in out) || out[m] === '—') out[m] = v;
  }
  return out;
}

async function checkOne(browser, file) {
  const failures = [];
  const name = path.basename(file).replace(/\.html?$/i, '');
  if (!fs.existsSync(file)) return [`no such file`];
  const context = await browser.newContext({ offline: true, viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const network = [];
  await context.route((url) => url.protocol !== 'file:', (route) => {
    network.push(route.request().url());
    return route.abort();
  });
  page.on('console', (m) => { if (m.type() === 'error') failures.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (!r.url().startsWith('file:') && !network.includes(r.url())) network.push(r.url());
  });

  try {
    await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: 'load', timeout: timeoutMs });
  } catch (e) {
    failures.push(`could not load: ${e.message.split('\n')[0]}`);
    await context.close();
    return failures;
  }
  try {
    await page.waitForFunction(() => window.__trackiqReady === true, null, { timeout: timeoutMs, polling: 50 });
  } catch (e) {
    failures.push(`window.__trackiqReady not set within ${timeoutMs} ms`);
  }

  const describe = (c) => `${c.kind} chart #${c.index + 1}${c.title ? ` ("${c.title}")` : ''}`;
  const before = await page.evaluate(inspectCharts);
  for (const c of before) if (!c.inked) failures.push(`${describe(c)} is empty`);
  const kinds = new Set(before.map((c) => c.kind));
  for (const k of expect) if (!kinds.has(k)) failures.push(`no ${k} chart (expected by --expect-charts)`);
  // A trade-off names its optima under the chart (the most samples/s, the lowest p99).
  if (expect.includes('tradeoff')) {
    const optima = await page.evaluate(() => document.querySelector('#tradeoff-optima')?.textContent ?? '');
    if (!/Optimum for throughput: .+ samples\/s/.test(optima) || !/Optimum for latency: .+ ms p99/.test(optima))
      failures.push(`the trade-off does not name its optima (got "${optima}")`);
  }

  if (cards.length) {
    const shown = await page.evaluate(inspectCards);
    for (const m of cards) {
      if (!(m in shown)) failures.push(`no "At a glance" card for ${m}`);
      else if (shown[m] === '' || shown[m] === '—') failures.push(`the ${m} card has no value`);
    }
  }
  if (fitTables) {
    const t = await page.evaluate(inspectTables);
    if (!t.tables) failures.push('--fit-tables: no table.data in the page');
    for (const p of t.problems) failures.push(`at ${viewport.width} px: ${p}`);
  }

  const theme0 = await page.evaluate(() => document.documentElement.getAttribute('data-theme'));
  await page.screenshot({ path: path.join(shotDir, `${name}.${theme0 || 'initial'}.png`), fullPage: true });

  const toggle = await page.$('#theme-toggle');
  if (!toggle) {
    failures.push('no #theme-toggle button');
  } else {
    await toggle.click();
    // Charts are redrawn synchronously on click; let uPlot's commit microtask and a frame run.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    const theme1 = await page.evaluate(() => document.documentElement.getAttribute('data-theme'));
    const expected = theme0 === 'dark' ? 'light' : 'dark';
    if (theme1 !== expected) failures.push(`#theme-toggle set data-theme to "${theme1}", expected "${expected}"`);
    const after = await page.evaluate(inspectCharts);
    if (after.length !== before.length) failures.push(`${before.length} charts before the theme toggle, ${after.length} after`);
    for (const c of after) {
      if (!c.inked) failures.push(`${describe(c)} is empty after the theme toggle`);
      else if (before[c.index] && before[c.index].fingerprint === c.fingerprint) failures.push(`${describe(c)} did not change with the theme`);
    }
    await page.screenshot({ path: path.join(shotDir, `${name}.${theme1 || 'toggled'}.png`), fullPage: true });
  }
  for (const url of new Set(network)) failures.push(`network request: ${url}`);
  await context.close();
  return failures;
}

const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
let failed = 0;
try {
  for (const file of files) {
    const t0 = Date.now();
    let failures;
    try {
      failures = await checkOne(browser, file);
    } catch (e) {
      failures = [`check crashed: ${e.message.split('\n')[0]}`];
    }
    if (failures.length) {
      failed++;
      for (const f of failures) console.log(`${file}: ${f}`);
    } else {
      console.log(`${file}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
