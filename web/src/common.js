// Helpers shared by the HTML report (report.js) and the dashboard of `trackiq serve`
// (dashboard.js): DOM building, numbers formatted the same in every locale, the theme's colours
// and chart axes. A classic script, inlined (report) or served (dashboard) before either page
// script, which takes what it needs from the one frozen global it defines, TrackIQCommon.
// Strings reach the DOM only through text nodes and setAttribute, never through innerHTML.
(function () {
  'use strict';

  const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

  // el('div', {class: 'x', onclick: f}, 'text', node, [more], null): text children become text
  // nodes; a function under an on* key is an event listener, any other attribute is set with
  // setAttribute; null/undefined/false attributes and children are skipped.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children) {
      if (c == null || c === false) continue;
      if (Array.isArray(c)) append(node, c);
      else node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

  // Four significant digits (or `digits`); thousands grouped from 10,000; '—' for no number.
  function num(v, digits) {
    if (!isNum(v)) return '—';
    const a = Math.abs(v);
    if (a >= 10000) return Math.round(v).toLocaleString('en-US');
    if (a >= 1000) return v.toFixed(0);
    if (a === 0) return '0';
    if (a < 1e-3) return v.toExponential(1);
    return String(Number(v.toPrecision(digits || 4)));
  }

  // The unit as shown in a label: '' for dimensionless, '/s' for a rate, else the unit.
  function unitText(unit) {
    if (unit == null || unit === '' || unit === '1') return '';
    if (unit === '1/s') return '/s';
    return unit;
  }

  // What follows a number: ' ms', ' %', '/s' or ''.
  function unitSuffix(unit) {
    const u = unitText(unit);
    return u === '' || u === '/s' ? u : ` ${u}`;
  }

  const withUnit = (v, unit) => (isNum(v) ? num(v) + unitSuffix(unit) : '—');
  const cssClass = (v) => String(v ?? '').toLowerCase().replace(/[^a-z0-9_-]/g, '');

  // Colours live in report.css as custom properties; charts read them when drawn, so a theme
  // switch is a redraw.
  function readTheme() {
    const cs = getComputedStyle(document.documentElement);
    const v = (name) => cs.getPropertyValue(name).trim();
    const series = [];
    for (let i = 1; i <= 8; i++) series.push(v(`--series-${i}`));
    return {
      text: v('--text'), muted: v('--muted'), axis: v('--chart-axis'), grid: v('--chart-grid'),
      surface: v('--surface'), throttle: v('--throttle'), marker: v('--chart-marker'),
      block: v('--block'), approve: v('--approve'), series,
    };
  }

  // '#rrggbb' + alpha -> 'rgba(...)'; anything else is returned as is.
  function alpha(colour, a) {
    const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
    if (!m) return colour;
    return `rgba(${parseInt(m[1], 16)},${parseInt(m[2], 16)},${parseInt(m[3], 16)},${a})`;
  }

  // A uPlot axis in the theme; `extra` overrides, its undefined entries ignored.
  function axis(theme, extra) {
    return Object.assign({
      stroke: theme.axis,
      font: `11px ${FONT}`,
      labelFont: `600 11px ${FONT}`,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1, size: 4 },
      border: { show: false },
    }, Object.fromEntries(Object.entries(extra || {}).filter(([, v]) => v !== undefined)));
  }

  window.TrackIQCommon = Object.freeze({
    FONT, el, append, isNum, num, unitText, unitSuffix, withUnit, cssClass, readTheme, alpha, axis,
  });
})();
