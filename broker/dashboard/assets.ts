/**
 * The dashboard's static files, served by the broker itself (no CDN; the page's policy allows
 * scripts from 'self' only): Chart.js's UMD build read from the installed package, and the small
 * script and style sheet of the page. Each URL carries a version, so they are cached for a year.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Asset {
  readonly path: string;
  readonly type: string;
  readonly body: string;
}

const chartVersion = (): { version: string; file: string } => {
  const require = createRequire(import.meta.url);
  // The package exports no package.json: its main file lies in dist/, next to the UMD build.
  const dist = dirname(require.resolve('chart.js'));
  const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string };
  return { version, file: join(dist, 'chart.umd.js') };
};

const pageScript = `'use strict';
(function () {
  var charts = {};
  function draw(id, type, labels, datasets) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    if (charts[id]) {
      charts[id].data.labels = labels;
      charts[id].data.datasets = datasets;
      charts[id].update('none');
      return;
    }
    charts[id] = new window.Chart(canvas, { type: type, data: { labels: labels, datasets: datasets }, options: { animation: false, responsive: true, maintainAspectRatio: false } });
  }
  function time(iso, window) {
    var d = new Date(iso);
    var hh = String(d.getHours()).padStart(2, '0');
    return window === 'hour' ? hh + ':' + String(d.getMinutes()).padStart(2, '0') : hh + ':00';
  }
  function totals(table) {
    var names = Object.keys(table).sort();
    return { names: names, success: names.map(function (n) { return table[n].success; }), failure: names.map(function (n) { return table[n].failure; }) };
  }
  function show(series) {
    var w = series.window;
    var sum = series.successes.reduce(function (a, b) { return a + b; }, 0) + series.failures.reduce(function (a, b) { return a + b; }, 0);
    var out = document.getElementById(w + '-logins');
    if (out) out.textContent = String(sum);
    draw(w + '-chart', 'line', series.buckets.map(function (b) { return time(b, w); }), [
      { label: '成功 success', data: series.successes, borderColor: '#1a7f37', backgroundColor: '#1a7f37' },
      { label: '失败 failure', data: series.failures, borderColor: '#b4232a', backgroundColor: '#b4232a' },
    ]);
    var reasons = Object.keys(series.reasons).sort();
    draw(w + '-reasons', 'bar', reasons, [{ label: '失败原因 reasons', data: reasons.map(function (r) { return series.reasons[r]; }), backgroundColor: '#b4232a' }]);
    var p = totals(series.provinces);
    draw(w + '-provinces', 'bar', p.names, [{ label: '成功 success', data: p.success, backgroundColor: '#1a7f37' }, { label: '失败 failure', data: p.failure, backgroundColor: '#b4232a' }]);
    var c = totals(series.cities);
    draw(w + '-cities', 'bar', c.names, [{ label: '成功 success', data: c.success, backgroundColor: '#1a7f37' }, { label: '失败 failure', data: c.failure, backgroundColor: '#b4232a' }]);
  }
  function refresh() {
    ['hour', 'day'].forEach(function (w) {
      fetch(document.body.getAttribute('data-counts') + '?window=' + w, { credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(show)
        .catch(function () { var s = document.getElementById('status'); if (s) s.textContent = '数据暂不可用 · data unavailable'; });
    });
  }
  refresh();
  setInterval(refresh, 3000);
})();
`;

const pageStyle = `body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}.en{color:#555;font-size:.9em;margin-left:.4em}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}.chart{height:14rem;position:relative}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}
form.inline{display:inline}.error{background:#fde8e8;border-left:4px solid #b4232a;padding:.6rem}.ok{background:#e6f4ea;border-left:4px solid #1a7f37;padding:.6rem}
button{padding:.3rem .7rem;margin:.1rem}.suspended{color:#b4232a}`;

export interface DashboardAssets {
  readonly chart: Asset;
  readonly script: Asset;
  readonly style: Asset;
}

/** Reads Chart.js once, when the dashboard is created (never at import). */
export function loadDashboardAssets(base: string): DashboardAssets {
  const chart = chartVersion();
  const version = chart.version.replace(/[^0-9A-Za-z.-]/g, '');
  return {
    chart: { path: `${base}/chart-${version}.umd.js`, type: 'application/javascript; charset=utf-8', body: readFileSync(chart.file, 'utf8') },
    script: { path: `${base}/dashboard-1.js`, type: 'application/javascript; charset=utf-8', body: pageScript },
    style: { path: `${base}/dashboard-1.css`, type: 'text/css; charset=utf-8', body: pageStyle },
  };
}
