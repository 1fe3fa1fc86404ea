// Headless-Chromium end-to-end check of the dashboard of `trackiq serve` (SRV-3).
//
//   node tests/browser/check_dashboard.mjs --url http://127.0.0.1:PORT --screenshots DIR
//        --regression-run ID [--timeout-ms N]
//
// The server's store must hold (run_dashboard_test.sh seeds it): product "detector" versions
// 1.0 .. 1.15, the last 8 about twice as slow as the first 8 (a planted step, whose first slow
// run is --regression-run), two runs of product "speech", and a baseline. The check, as a user
// would: filter the runs table (by product, by version, by search) and walk its pages; open a
// run (its key metrics and latency charts drawn); tick two runs and compare them (the verdict
// and the reasons shown); open the history of detector's p50, see the change point, click it and
// land on the runs around it; see the changes and the baselines; watch live telemetry move (more
// samples a few seconds later, its chart drawn); switch to the dark theme and back (charts
// redrawn). Any console error, page error, HTTP error or request outside the server fails. A
// screenshot of each step goes to DIR (and DIR/FAILED-<step>.png when a step fails).
// Prints "step: what failed" lines; exit 0 only when all pass.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const requireFromWeb = createRequire(path.join(repo, 'web', 'package.json'));

function usage(msg) {
  if (msg) console.error(`check_dashboard: ${msg}`);
  console.error('usage: node tests/browser/check_dashboard.mjs --url URL --screenshots DIR --regression-run ID [--timeout-ms N]');
  process.exit(2);
}

const args = process.argv.slice(2);
let base = null, shotDir = null, regressionRun = null, timeoutMs = 20000;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--url') base = String(args[++i] ?? '').replace(/\/$/, '');
  else if (a === '--screenshots') shotDir = args[++i];
  else if (a === '--regression-run') regressionRun = args[++i];
  else if (a === '--timeout-ms') timeoutMs = Number(args[++i]);
  else usage(`unknown argument ${a}`);
}
if (!base || !shotDir || !regressionRun) usage('--url, --screenshots and --regression-run are required');

let chromium;
try {
  ({ chromium } = requireFromWeb('playwright-core'));
} catch (e) {
  console.error('check_dashboard: playwright-core not found: run `npm ci --prefix web --no-audit --no-fund`');
  process.exit(2);
}
const executablePath = process.env.TRACKIQ_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
  console.error(`check_dashboard: no Chromium at ${executablePath} (apt-get install chromium, or set TRACKIQ_CHROMIUM)`);
  process.exit(2);
}
fs.mkdirSync(shotDir, { recursive: true });

const failures = [];
const origin = new URL(base).origin;
const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
// Everything must come from the server: any other request is aborted and fails the check.
await context.route((url) => url.origin !== origin, (route) => {
  failures.push(`network: a request outside the server: ${route.request().url()}`);
  return route.abort();
});
const page = await context.newPage();
page.setDefaultTimeout(timeoutMs);
page.on('console', (m) => { if (m.type() === 'error') failures.push(`console error: ${m.text()}`); });
page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
page.on('response', (r) => {
  // A 4xx the dashboard asked for on purpose is none; every answer it gets here should be 2xx.
  if (r.status() >= 400) failures.push(`HTTP ${r.status()} for ${r.url()}`);
});

function expect(cond, step, what) {
  if (!cond) throw new Error(`${step}: ${what}`);
}

// Waits for the view of the current hash to settle.
async function settled() {
  await page.waitForFunction(() => {
    const v = document.getElementById('view');
    return v && v.getAttribute('data-state') === 'ready' && v.getAttribute('data-hash') === location.hash;
  });
}

async function go(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await settled();
}

// Whether a canvas under `selector` has pixels other than its most common one.
async function drawn(selector) {
  return page.evaluate((sel) => {
    const canvases = [...document.querySelectorAll(`${sel} canvas`)];
    if (!canvases.length) return false;
    return canvases.every((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const counts = new Map();
      for (let i = 0; i < d.length; i += 4 * 7) {
        const k = (d[i] << 24) ^ (d[i + 1] << 16) ^ (d[i + 2] << 8) ^ d[i + 3];
        counts.set(k, (counts.get(k) || 0) + 1);
      }
      return counts.size > 1;
    });
  }, selector);
}

const rowsOf = (sel) => page.$$eval(`${sel} tbody tr`, (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));

const steps = [];
function step(name, fn) { steps.push({ name, fn }); }

step('runs', async () => {
  await page.goto(`${base}/`);
  await settled();
  expect(/#\/runs$/.test(page.url()), 'runs', `the start page is not #/runs: ${page.url()}`);
  const rows = await rowsOf('#runs-table');
  expect(rows.length === 18, 'runs', `expected 18 runs, got ${rows.length}`);
});

step('filter', async () => {
  await page.fill('#run-filters input[name=product]', 'speech');
  await page.click('#run-filters button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('product=speech'));
  await settled();
  let rows = await rowsOf('#runs-table');
  expect(rows.length === 2 && rows.every((r) => r[3] === 'speech'), 'filter', `product=speech: ${JSON.stringify(rows)}`);
  await go('#/runs?product=detector&version=1.3');
  rows = await rowsOf('#runs-table');
  expect(rows.length === 1 && rows[0][4] === '1.3', 'filter', `version=1.3: ${JSON.stringify(rows)}`);
  // Search within the page: the run id prefix of the planted regression's first run.
  await go(`#/runs?product=detector&q=${regressionRun.slice(0, 8)}`);
  rows = await rowsOf('#runs-table');
  expect(rows.length === 1 && rows[0][1] === regressionRun.slice(0, 8), 'filter', `search: ${JSON.stringify(rows)}`);
  // The search is the server's, over the whole store: case-insensitive, across pages.
  await go('#/runs?limit=5&q=SPEECH');
  rows = await rowsOf('#runs-table');
  expect(rows.length === 2 && rows.every((r) => r[3] === 'speech'), 'filter', `q=SPEECH: ${JSON.stringify(rows)}`);
  // Pages of 5, walked with the API's cursor: 16 detector runs in 4 pages, none twice.
  await go('#/runs?product=detector&limit=5');
  const seen = new Set();
  for (let p = 0; p < 10; p++) {
    for (const r of await rowsOf('#runs-table')) seen.add(r[1]);
    if (!(await page.$('#next-page'))) break;
    const next = await page.getAttribute('#next-page', 'href');
    await page.click('#next-page');
    await page.waitForFunction((h) => location.hash === h, next);
    await settled();
  }
  expect(seen.size === 16, 'filter', `paging by 5 saw ${seen.size} distinct runs, expected 16`);
});

step('run', async () => {
  await go('#/runs?product=detector&version=1.12');
  await page.click('#runs-table .run-link');
  await page.waitForFunction(() => location.hash.startsWith('#/run/'));
  await settled();
  const cards = await page.$$eval('#key-metrics .stat', (s) => s.map((x) => x.getAttribute('data-metric')));
  expect(cards.includes('latency_p50_ms') && cards.includes('latency_p99_ms'), 'run', `key metrics: ${cards}`);
  const value = await page.textContent('#key-metrics [data-metric=latency_p50_ms] .stat-value');
  expect(/\d.* ms$/.test(value.trim()), 'run', `p50 card: '${value}'`);
  // Stored runs keep their samples: the distribution and the timeline are drawn.
  await page.waitForFunction(() => document.querySelectorAll('#run-charts canvas').length >= 2);
  expect(await drawn('#run-charts'), 'run', 'the latency charts drew nothing');
  // A card's history link opens the run's own series (run=ID: its configuration included).
  await page.click('#key-metrics [data-metric=latency_p50_ms] a');
  await page.waitForFunction(() => /^#\/history\?.*run=/.test(location.hash));
  await settled();
  await page.waitForSelector('#change-points');
  const cps = await rowsOf('#change-points');
  expect(cps.length === 1 && cps[0][0] === regressionRun.slice(0, 8), 'run', `the run's history: ${JSON.stringify(cps)}`);
});

step('compare', async () => {
  await go('#/runs?product=detector');
  const boxes = await page.$$('#runs-table input[type=checkbox]');
  // Base: the oldest run on the page (fast); current: the newest (slow).
  await boxes[boxes.length - 1].check();
  await boxes[0].check();
  await page.click('#compare-selected');
  await page.waitForFunction(() => location.hash.startsWith('#/compare?'));
  await settled();
  const verdict = (await page.textContent('#verdict')).trim();
  expect(verdict === 'BLOCK', 'compare', `verdict '${verdict}', expected BLOCK for a 2x slower run`);
  const rows = await rowsOf('#verdict-table');
  const p50 = rows.find((r) => r[0] === 'latency_p50_ms');
  expect(p50 && p50[5].length > 10, 'compare', `no reason for latency_p50_ms: ${JSON.stringify(p50)}`);
  expect(rows.some((r) => r[4] === 'BLOCK'), 'compare', `no blocking metric: ${JSON.stringify(rows)}`);
});

step('history', async () => {
  await go('#/history?metric=latency_p50_ms&product=detector');
  const rows = await rowsOf('#change-points');
  expect(rows.length === 1 && rows[0][0] === regressionRun.slice(0, 8), 'history', `change points: ${JSON.stringify(rows)}`);
  expect(rows[0][4] === 'regression', 'history', `kind: ${rows[0][4]}`);
  await page.waitForSelector('.cp-marker');
  expect(await drawn('#history'), 'history', 'the history chart drew nothing');
  await page.click('.cp-marker');
  await page.waitForFunction(() => /[?&]cp=8(&|$)/.test(location.hash));
  await settled();
  await page.waitForSelector('#runs-around');
  const around = await rowsOf('#runs-around');
  expect(around.length === 6, 'history', `runs around: ${JSON.stringify(around)}`);
  expect(around[3][1] === regressionRun.slice(0, 8), 'history', `the first run after is ${around[3][1]}`);
  await page.screenshot({ path: path.join(shotDir, 'history-around.png'), fullPage: true });
  await page.click('#compare-around');
  await page.waitForFunction(() => location.hash.startsWith('#/compare?'));
  await settled();
  const verdict = (await page.textContent('#verdict')).trim();
  expect(verdict === 'BLOCK', 'history', `the runs on either side compare as '${verdict}'`);
});

step('changes', async () => {
  await go('#/changes');
  const text = await page.textContent('#view');
  expect(text.includes('latency_p50_ms') && text.includes(regressionRun.slice(0, 8)), 'changes', 'the planted change is not listed');
});

step('baselines', async () => {
  await go('#/baselines');
  const rows = await rowsOf('#baselines-table');
  expect(rows.length === 1 && rows[0][0] === 'nightly', 'baselines', JSON.stringify(rows));
});

step('telemetry', async () => {
  await go('#/telemetry');
  await page.waitForFunction(() => Number(document.getElementById('telemetry-count')?.getAttribute('data-rows')) > 0);
  const first = Number(await page.getAttribute('#telemetry-count', 'data-rows'));
  const firstPoints = await page.textContent('#telemetry-count');
  await page.waitForFunction((n) => Number(document.getElementById('telemetry-count')?.getAttribute('data-rows')) >= n + 2,
    first, { timeout: 15000 });
  const later = await page.textContent('#telemetry-count');
  expect(later !== firstPoints, 'telemetry', `the sample count did not move: '${firstPoints}' then '${later}'`);
  expect(await drawn('#telemetry-chart'), 'telemetry', 'the telemetry chart drew nothing');
  const value = await page.textContent('#telemetry-value');
  expect(value.trim() !== '—', 'telemetry', 'no latest value');
});

step('theme', async () => {
  await go('#/history?metric=latency_p50_ms&product=detector');
  await page.waitForSelector('#history canvas');
  await page.click('#theme-toggle');
  await settled();
  const theme = await page.getAttribute('html', 'data-theme');
  expect(theme === 'dark', 'theme', `data-theme is '${theme}' after the toggle`);
  await page.waitForSelector('#history canvas');
  expect(await drawn('#history'), 'theme', 'the history chart drew nothing in the dark theme');
  await page.click('#theme-toggle');
  await settled();
});

let ok = true;
for (const s of steps) {
  const t0 = Date.now();
  const before = failures.length;
  try {
    await s.fn();
    await page.screenshot({ path: path.join(shotDir, `${s.name}.png`), fullPage: true });
  } catch (e) {
    failures.push(e.message.split('\n')[0]);
  }
  if (failures.length > before) {
    ok = false;
    for (const f of failures.slice(before)) console.log(`${s.name}: ${f}`);
    await page.screenshot({ path: path.join(shotDir, `FAILED-${s.name}.png`), fullPage: true }).catch(() => {});
  } else {
    console.log(`${s.name}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
}
await browser.close();
process.exit(ok ? 0 : 1);
