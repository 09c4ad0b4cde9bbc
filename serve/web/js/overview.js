// Overview: revenue at risk by value tier x risk band, the score
// distribution, the trend across runs, the champion, schedule and drift.
import { api, optional } from './api.js';
import { h, card, table, unavailable, errorBox } from './dom.js';
import { bars, lines } from './charts.js';
import { fmtInt, fmtMoney, fmtPct, fmtNum, fmtTime, humanise } from './format.js';

const TIERS = ['A', 'B', 'C'];
const BANDS = ['high', 'medium', 'low'];

export async function overview(root, { stale }) {
  const [summary, runs, models, jobs] = await Promise.all([
    api.get('/v1/summary'),
    optional('/v1/runs?limit=36').catch((e) => e),
    api.get('/v1/models').catch((e) => e),
    optional('/v1/jobs?limit=1').catch((e) => e),
  ]);
  if (stale()) return;
  root.append(
    h('h1', {}, 'Overview'),
    kpis(summary),
    h('div', { class: 'grid two' }, heat(summary), distribution(summary)),
    h('div', { class: 'grid two' }, trend(runs), champion(models)),
    h('div', { class: 'grid two' }, schedule(summary, jobs), driftCard(jobs)),
    h('div', { class: 'grid two' }, facetCard('Top reasons', 'reasons', summary.reasons, 'reason'),
      facetCard('Regions', 'regions', summary.regions, 'region')),
  );
}

function kpi(id, label, text, value) {
  return h('div', { class: 'kpi', id }, h('span', { class: 'kpi-label' }, label),
    h('span', { class: 'kpi-value', 'data-value': value }, text));
}

function kpis(s) {
  const high = s.segments.filter((g) => g.band === 'high').reduce((n, g) => n + g.customers, 0);
  const highLoss = s.segments.filter((g) => g.band === 'high').reduce((n, g) => n + g.expected_loss, 0);
  return h('section', { class: 'kpis', 'aria-label': 'Key figures' },
    kpi('kpi-customers', 'Customers scored', fmtInt(s.customers), s.customers),
    kpi('kpi-loss', 'Revenue at risk', fmtMoney(s.expected_loss), s.expected_loss),
    kpi('kpi-high', 'High-risk customers', fmtInt(high), high),
    kpi('kpi-high-loss', 'At risk in the high band', fmtMoney(highLoss), Math.round(highLoss * 100) / 100),
    kpi('kpi-run', `Scores as of ${s.run.as_of}`, `model v${s.run.model_version}`, s.run.id));
}

// heat is the tier x band table; the shade of a cell is its share of the
// revenue at risk, in five steps so that the text keeps its contrast.
function heat(s) {
  const by = {};
  for (const g of s.segments) by[g.tier + g.band] = g;
  const max = Math.max(...s.segments.map((g) => g.share_of_expected_loss), 1e-9);
  const rows = TIERS.map((t) => h('tr', {},
    h('th', { scope: 'row' }, `Tier ${t}`),
    BANDS.map((b) => {
      const g = by[t + b] || { customers: 0, expected_loss: 0, share_of_expected_loss: 0, avg_probability: 0 };
      const step = Math.min(4, Math.floor((g.share_of_expected_loss / max) * 4.999));
      return h('td', { class: `heat heat-${step}`, id: `heat-${t}-${b}`, 'data-customers': g.customers, 'data-loss': g.expected_loss },
        h('a', { href: `#/risk?tier=${t}&band=${b}`, 'aria-label': `Tier ${t}, ${b} risk: ${fmtInt(g.customers)} customers, ${fmtMoney(g.expected_loss)} at risk; open the list` },
          h('span', { class: 'heat-n' }, fmtInt(g.customers)),
          h('span', { class: 'heat-loss' }, fmtMoney(g.expected_loss)),
          h('span', { class: 'heat-share' }, `${fmtPct(g.share_of_expected_loss)} of risk · avg p ${fmtPct(g.avg_probability)}`)));
    })));
  return card('Customers and revenue at risk', 'heat-card',
    table('Value tier by risk band: customers, revenue at risk and share of the total', ['', ...BANDS.map((b) => `${humanise(b)} risk`)], rows, { class: 'heat-table' }));
}

function distribution(s) {
  const labels = s.histogram.map((b) => `${Math.round(b.from * 100)}–${Math.round(b.to * 100)}%`);
  const counts = s.histogram.map((b) => b.customers);
  const top = s.histogram.reduce((a, b) => (b.customers > a.customers ? b : a), s.histogram[0]);
  return card('Score distribution', 'dist-card',
    bars(`Histogram of churn probabilities in bins of 5 points; most customers (${fmtInt(top.customers)}) are between ${fmtPct(top.from, 0)} and ${fmtPct(top.to, 0)}`,
      labels, counts, { x: 'churn probability', y: 'customers', series: 'customers' }),
    h('details', {}, h('summary', {}, 'Numbers'),
      table('', ['Probability', 'Customers'], s.histogram.filter((b) => b.customers > 0).map((b, i) => [labels[s.histogram.indexOf(b)] || i, fmtInt(b.customers)]))));
}

function trend(runs) {
  if (runs === null) return card('High-risk customers across runs', 'trend-card', unavailable('Run history'));
  if (runs instanceof Error) return card('High-risk customers across runs', 'trend-card', errorBox(runs));
  const list = [...runs.runs].reverse();
  // As-of date and the UTC time the run finished: short enough for the axis.
  const labels = list.map((r) => `${r.run.as_of} ${String(r.run.finished_at).slice(11, 16)}`);
  const last = list[list.length - 1];
  return card('High-risk customers across runs', 'trend-card',
    list.length === 0 ? h('p', {}, 'No finished runs yet.') :
      lines(`High-risk and medium-risk customers in the last ${list.length} scoring runs; latest: ${fmtInt(last.bands.high)} high, ${fmtInt(last.bands.medium)} medium`,
        labels, [
          { label: 'high risk', data: list.map((r) => r.bands.high || 0), color: '#c0392b' },
          { label: 'medium risk', data: list.map((r) => r.bands.medium || 0), color: '#d68910' },
        ], { y: 'customers' }),
    h('p', { class: 'muted', id: 'trend-runs', 'data-runs': list.length }, `${list.length} finished run${list.length === 1 ? '' : 's'}.`));
}

// The metrics a retention lead reads first, in words; the rest are folded.
const KEY_METRICS = { pr_auc: 'PR-AUC', roc_auc: 'ROC-AUC', top_lift: 'Lift in the top 10%', top_capture: 'Churners caught in the top 10%',
  log_loss: 'Log loss', brier: 'Brier score', ece: 'Calibration error (ECE)', base_rate: 'Churn rate of the holdout' };

function champion(models) {
  if (models instanceof Error) return card('Champion model', 'champion-card', errorBox(models));
  const m = (models.models || []).find((x) => x.champion && (x.kind || 'churn') === 'churn'); // the uplift champion ranks actions, not customers
  if (!m) return card('Champion model', 'champion-card', h('p', {}, 'No champion yet: run `churn train`.'));
  const val = (k) => fmtNum(m.metrics[k], Math.abs(m.metrics[k]) >= 100 ? 0 : 3);
  const key = Object.keys(KEY_METRICS).filter((k) => k in m.metrics);
  const rest = Object.keys(m.metrics).filter((k) => !(k in KEY_METRICS)).sort();
  return card('Champion model', 'champion-card',
    h('p', { id: 'champion-version', 'data-version': m.version },
      h('strong', {}, `Version ${m.version}`), ` · ${m.algorithm} · trained ${fmtTime(m.created_at)}`),
    h('p', { class: 'muted' }, `Training snapshots ${m.train_from} to ${m.train_to}; holdout (out of time) ${m.holdout_as_of}.`),
    table('Holdout metrics', ['Metric', 'Value'], key.map((k) => [KEY_METRICS[k], h('td', { class: 'num', 'data-metric': k }, val(k))]), { class: 'compact', id: 'champion-metrics' }),
    rest.length ? h('details', {}, h('summary', {}, 'Other metrics'),
      table('', ['Metric', 'Value'], rest.map((k) => [humanise(k), h('td', { class: 'num' }, val(k))]), { class: 'compact' })) : null);
}

// pick reads the first present field of an object of a route whose shape
// evolves (the scheduler's).
const pick = (o, ...keys) => { for (const k of keys) if (o && o[k] !== undefined && o[k] !== null && o[k] !== '') return o[k]; return undefined; };

function schedule(s, jobs) {
  const rows = [];
  const lastScore = h('p', { id: 'last-run' }, 'Last scoring run finished ', h('strong', {}, fmtTime(s.run.finished_at)),
    ` (${fmtInt(s.run.rows)} scores, as of ${s.run.as_of}).`);
  if (jobs === null) return card('Runs and schedule', 'schedule-card', lastScore, unavailable('Schedule (next runs)'));
  if (jobs instanceof Error) return card('Runs and schedule', 'schedule-card', lastScore, errorBox(jobs));
  for (const j of pick(jobs, 'jobs') || []) {
    const last = pick(j, 'last_run', 'last') || {};
    rows.push([pick(j, 'name', 'job') || '–', pick(j, 'schedule', 'spec') || '–',
      fmtTime(pick(j, 'next_run', 'next_run_at', 'next')),
      `${pick(last, 'status') || '–'} ${fmtTime(pick(last, 'finished_at', 'finished', 'started_at', 'started'))}`]);
  }
  return card('Runs and schedule', 'schedule-card', lastScore,
    rows.length ? table('Scheduled jobs', ['Job', 'Schedule', 'Next run', 'Last run'], rows, { id: 'jobs-table' }) : h('p', {}, 'No scheduled jobs.'));
}

// driftCard tells the state of the drift job: its last run checks the PSI
// of scores and features and fails when a threshold is breached.
function driftCard(jobs) {
  if (jobs === null) return card('Drift', 'drift-card', unavailable('Drift status (the scheduler)'));
  if (jobs instanceof Error) return card('Drift', 'drift-card', errorBox(jobs));
  const job = (jobs.jobs || []).find((j) => j.name === 'drift');
  if (!job) return card('Drift', 'drift-card', h('p', { id: 'drift-status' }, 'No drift job is scheduled on this server.'));
  const last = job.last_run;
  const state = !last ? 'not run yet' : last.status;
  return card('Drift', 'drift-card',
    h('p', { id: 'drift-status', class: last && last.status === 'failed' ? 'warn' : 'ok' }, h('strong', {}, humanise(state)),
      last ? ` · last check ${fmtTime(last.finished_at || last.started_at)}` : ''),
    last && last.error ? h('p', { class: 'warn' }, last.error) : null,
    h('p', { class: 'muted' }, `Next check ${fmtTime(job.next_run)} (${job.schedule}).`));
}

function facetCard(title, id, list, param) {
  if (!list || list.length === 0) return card(title, id + '-card', h('p', { class: 'muted' }, 'None recorded in this run.'));
  return card(title, id + '-card', table('', [param === 'reason' ? 'Strongest reason' : 'Region', 'Customers', 'At risk'],
    list.slice(0, 8).map((f) => [
      h('a', { href: `#/risk?${param}=${encodeURIComponent(f.name)}`, title: f.example || '' }, param === 'reason' ? humanise(f.name) : f.name),
      fmtInt(f.customers), fmtMoney(f.expected_loss)]), { class: 'compact' }));
}
