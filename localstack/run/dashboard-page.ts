/**
 * The live dashboard's page: one HTML document with its script inline (no build step), drawing with uPlot,
 * which the control server serves from its installed package. It polls `GET /dashboard` every second with the
 * run's token (from its own address) and mirrors the CloudWatch dashboard's widgets for the local run.
 */

const SCRIPT = `
const token = new URLSearchParams(location.search).get('token') ?? '';
const $ = (id) => document.getElementById(id);
const fmt = (n) => (n === undefined || n === null ? '—' : Math.round(n).toLocaleString('en-US'));
const ms = (n) => (n === undefined || n === null ? '—' : fmt(n) + ' ms');
const time = (t) => new Date(t).toLocaleTimeString();
const COLORS = ['#2f6fdf', '#e8871e', '#2e9e5b', '#c43d4b', '#7b52c7', '#0f9ba8', '#a06b1c', '#d14fa7'];
const charts = {};
let updates = 0;

function text(el, value) {
  if (el.textContent !== value) el.textContent = value;
}

function cell(row, cls, value) {
  let td = row.querySelector('td.' + cls);
  if (td === null) {
    td = document.createElement('td');
    td.className = cls;
    row.appendChild(td);
  }
  text(td, value);
}

/** Rows keyed by id, created, updated and removed in place (so the test and the eye can follow them), in the items' order. */
function table(tbody, items, key, fill) {
  const rows = [];
  for (const item of items) {
    const id = key(item);
    let row = tbody.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
    if (row === null) {
      row = document.createElement('tr');
      row.dataset.id = id;
    }
    fill(row, item);
    rows.push(row);
  }
  const current = [...tbody.children];
  if (current.length !== rows.length || current.some((row, i) => row !== rows[i])) tbody.replaceChildren(...rows);
}

function chart(name, el, series, data) {
  const names = series.map((s) => s.label).join('|');
  let c = charts[name];
  if (c !== undefined && c.names !== names) {
    c.plot.destroy();
    c = undefined;
  }
  if (c === undefined) {
    const plot = new uPlot(
      {
        width: el.clientWidth,
        height: 220,
        series: [{}, ...series.map((s, i) => ({ stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, ...s }))],
        axes: [{}, { size: 60 }],
        legend: { live: false },
      },
      data,
      el,
    );
    c = charts[name] = { plot, names };
  } else c.plot.setData(data);
}

function draw(s) {
  text($('stream'), s.stream);
  text($('produced'), fmt(s.produced));
  text($('applied'), fmt(s.applied));
  text($('parked'), fmt(s.parked));
  text($('quarantined'), fmt(s.quarantined));
  text($('latency-p50'), ms(s.sourceToAppliedMs?.p50Ms));
  text($('latency-p99'), ms(s.sourceToAppliedMs?.p99Ms));
  text($('latency-max'), ms(s.sourceToAppliedMs?.maxMs));
  text($('arrival-p50'), ms(s.arrivalToAppliedMs?.p50Ms));
  const last = s.samples.at(-1);
  text($('in-rate'), fmt(last?.inPerSecond));
  text($('applied-rate'), fmt(last?.appliedPerSecond));
  const x = s.samples.map((p) => p.atWallMs / 1000);
  chart('rate', $('chart-rate'), [{ label: 'in (events/s)' }, { label: 'applied (events/s)' }], [
    x,
    s.samples.map((p) => p.inPerSecond),
    s.samples.map((p) => p.appliedPerSecond),
  ]);
  const q = (p, which, k) => p[which]?.[k] ?? null;
  chart(
    'latency',
    $('chart-latency'),
    [
      { label: 'source → applied p50' },
      { label: 'source → applied p99' },
      { label: 'source → applied max', dash: [4, 4] },
      { label: 'arrival → applied p50' },
      { label: 'arrival → applied p99' },
    ],
    [
      x,
      s.samples.map((p) => q(p, 'sourceToAppliedMs', 'p50Ms')),
      s.samples.map((p) => q(p, 'sourceToAppliedMs', 'p99Ms')),
      s.samples.map((p) => q(p, 'sourceToAppliedMs', 'maxMs')),
      s.samples.map((p) => q(p, 'arrivalToAppliedMs', 'p50Ms')),
      s.samples.map((p) => q(p, 'arrivalToAppliedMs', 'p99Ms')),
    ],
  );
  const shardIds = [...new Set(s.samples.flatMap((p) => Object.keys(p.lagMsByShard)))].sort();
  $('chart-lag').dataset.series = String(shardIds.length);
  chart('lag', $('chart-lag'), shardIds.map((id) => ({ label: id.replace('shardId-', '') })), [
    x,
    ...shardIds.map((id) => s.samples.map((p) => p.lagMsByShard[id] ?? null)),
  ]);
  chart('parked', $('chart-parked'), [{ label: 'parked' }, { label: 'quarantined' }], [
    x,
    s.samples.map((p) => p.parked),
    s.samples.map((p) => p.quarantined),
  ]);
  table($('workers'), s.workers, (w) => w.id, (row, w) => {
    row.dataset.state = w.state;
    cell(row, 'id', w.id + (w.assigner ? ' (assigner)' : ''));
    cell(row, 'state', w.state);
    cell(row, 'leases', w.leases.map((l) => l.replace('shardId-', '')).join(' ') || '—');
    cell(row, 'rate', fmt(w.eventsPerSecond));
    cell(row, 'latency', w.sourceToAppliedMs === undefined ? '—' : fmt(w.sourceToAppliedMs.p50Ms) + '/' + fmt(w.sourceToAppliedMs.p99Ms) + ' ms');
    // Reported as <version>@<applied at>: the version is what a person compares.
    cell(row, 'config', w.configVersion?.split('@')[0] ?? '—');
  });
  table($('shards'), s.shards, (sh) => sh.shardId, (row, sh) => {
    row.dataset.owner = sh.owner ?? '';
    cell(row, 'shard', sh.shardId);
    cell(row, 'owner', sh.owner ?? '—');
    cell(row, 'fence', String(sh.fence));
    cell(row, 'lag', ms(sh.lagMs));
    cell(row, 'records', fmt(sh.records));
    cell(row, 'state', sh.state);
  });
  table($('moves'), s.moves, (m) => m.atWallMs + m.shardId, (row, m) => {
    row.dataset.how = m.how;
    cell(row, 'at', time(m.atWallMs));
    cell(row, 'shard', m.shardId);
    cell(row, 'how', m.how);
    cell(row, 'from', m.from ?? '—');
    cell(row, 'to', m.to ?? '—');
  });
  text($('no-decisions'), s.decisions.length === 0 ? 'none yet: the cluster manager runs with --cluster-manager or --load-profile' : '');
  table($('decisions'), s.decisions, (d) => String(d.atWallMs), (row, d) => {
    cell(row, 'at', time(d.atWallMs));
    cell(row, 'term', String(d.term));
    cell(row, 'actions', d.actions.join(', ') || 'none');
    cell(row, 'why', [...d.reasons, ...d.outcomes].join('; ') || '—');
  });
  document.body.dataset.updates = String(++updates);
}

async function poll() {
  try {
    const response = await fetch('/dashboard', { headers: { authorization: 'Bearer ' + token } });
    if (response.status === 401) {
      text($('status'), 'the token in this address does not match the run: open the address the run printed');
      return;
    }
    const body = await response.json();
    if (body.starting) text($('status'), 'the run is starting…');
    else {
      text($('status'), 'live · updated ' + new Date().toLocaleTimeString());
      draw(body);
    }
  } catch (error) {
    text($('status'), 'the run is not answering (stopped?): ' + error.message);
  }
  setTimeout(poll, 1000);
}
poll();
`;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #1d2330; background: #f6f7f9; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 0 0 8px; }
#status { color: #5b6474; margin-bottom: 12px; }
.figures { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 14px; }
.figure { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 8px 12px; min-width: 120px; }
.figure b { display: block; font-size: 20px; } .figure span { color: #5b6474; font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 14px; }
.panel { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 10px 12px; min-width: 0; overflow-x: auto; }
.note { color: #5b6474; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid #eef0f3; white-space: nowrap; }
th { color: #5b6474; font-weight: 600; }
tr[data-state="killed"], tr[data-state="crashed"], tr[data-state="stopped"] { color: #b0483f; }
tr[data-how="take-over"] td.how { color: #b0483f; font-weight: 600; }
tr[data-how="hand-off"] td.how { color: #2f6fdf; font-weight: 600; }
`;

/** The dashboard's HTML, which loads uPlot from `assetsPath`. */
function dashboardPage(assetsPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cdc-event-processor · live</title>
<link rel="stylesheet" href="${assetsPath}/uPlot.min.css">
<style>${STYLE}</style>
</head>
<body>
<h1>cdc-event-processor · <span id="stream">…</span></h1>
<div id="status">connecting…</div>
<div class="figures">
  <div class="figure"><span>events in /s</span><b id="in-rate">—</b></div>
  <div class="figure"><span>applied /s</span><b id="applied-rate">—</b></div>
  <div class="figure"><span>produced</span><b id="produced">—</b></div>
  <div class="figure"><span>applied</span><b id="applied">—</b></div>
  <div class="figure"><span>source → applied p50</span><b id="latency-p50">—</b></div>
  <div class="figure"><span>source → applied p99</span><b id="latency-p99">—</b></div>
  <div class="figure"><span>source → applied max</span><b id="latency-max">—</b></div>
  <div class="figure"><span>arrival → applied p50</span><b id="arrival-p50">—</b></div>
  <div class="figure"><span>parked</span><b id="parked">—</b></div>
  <div class="figure"><span>quarantined aggregates</span><b id="quarantined">—</b></div>
</div>
<div class="grid">
  <div class="panel"><h2>Throughput: events in and applied per second</h2><div id="chart-rate"></div></div>
  <div class="panel"><h2>Latency: source → applied and arrival → applied (ms)</h2><div id="chart-latency"></div></div>
  <div class="panel"><h2>Lag per shard: arrival → processed (ms)</h2><div id="chart-lag"></div></div>
  <div class="panel"><h2>Parked changes and quarantined aggregates</h2><div id="chart-parked"></div></div>
  <div class="panel"><h2>Workers and their leases</h2>
    <table><thead><tr><th>worker</th><th>state</th><th>leases</th><th>events/s</th><th>latency p50/p99</th><th>config</th></tr></thead><tbody id="workers"></tbody></table></div>
  <div class="panel"><h2>Shards</h2>
    <table><thead><tr><th>shard</th><th>owner</th><th>fence</th><th>lag</th><th>records</th><th>state</th></tr></thead><tbody id="shards"></tbody></table></div>
  <div class="panel"><h2>Lease moves and take-overs</h2>
    <table><thead><tr><th>at</th><th>shard</th><th>how</th><th>from</th><th>to</th></tr></thead><tbody id="moves"></tbody></table></div>
  <div class="panel"><h2>Cluster manager decisions</h2>
    <table><thead><tr><th>at</th><th>term</th><th>actions</th><th>why</th></tr></thead><tbody id="decisions"></tbody></table><div class="note" id="no-decisions"></div></div>
</div>
<script src="${assetsPath}/uPlot.iife.min.js"></script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

export { dashboardPage };
