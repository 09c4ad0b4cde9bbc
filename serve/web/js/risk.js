// Risk list: GET /v1/scores with filters, sorting, cursor paging and CSV export.
import { api, ApiError } from './api.js';
import { h, table, toast } from './dom.js';
import { fmtMoney, fmtPct, humanise } from './format.js';

const FILTERS = ['tier', 'band', 'reason', 'region', 'min_probability'];
const SORTS = { expected_loss: 'Expected loss', probability: 'Probability', lifetime_value: 'Lifetime value' };

// paging remembers the cursors of the pages seen for one query.
let paging = { query: '', cursors: [''] };

function queryOf(params) {
  const q = new URLSearchParams();
  for (const k of [...FILTERS, 'sort', 'limit']) if (params.get(k)) q.set(k, params.get(k));
  return q;
}

function go(q) {
  location.hash = '#/risk' + (q.toString() ? '?' + q : '');
}

export async function riskList(root, { params, stale }) {
  const q = queryOf(params);
  const key = q.toString();
  if (paging.query !== key) paging = { query: key, cursors: [''] };
  const page = paging.cursors.length - 1;
  const url = new URLSearchParams(q);
  if (!url.get('limit')) url.set('limit', '50');
  if (paging.cursors[page]) url.set('cursor', paging.cursors[page]);
  let data;
  const summary = await api.get('/v1/summary');
  try {
    data = await api.get('/v1/scores?' + url);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'cursor_expired') {
      paging = { query: key, cursors: [''] };
      toast('A new scoring run re-ranked the list; back to the first page.');
      return riskList(root, { params, stale });
    }
    throw err;
  }
  if (stale()) return;
  const sort = data.sort;
  root.append(
    h('h1', {}, 'Risk list'),
    filterForm(q, summary),
    h('p', { class: 'muted', id: 'risk-meta' }, `Run ${data.run.id} · as of ${data.run.as_of} · sorted by ${SORTS[sort].toLowerCase()} · page ${page + 1}`),
    resultTable(data.items, sort, q, page, url.get('limit')),
    pager(data, q, page),
  );
}

function select(name, label, options, value) {
  const id = 'f-' + name;
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, name }, h('option', { value: '' }, 'All'),
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
}

function filterForm(q, summary) {
  const form = h('form', { class: 'filters', id: 'risk-filters', 'aria-label': 'Filter the risk list' },
    select('tier', 'Value tier', [['A', 'A'], ['B', 'B'], ['C', 'C']], q.get('tier')),
    select('band', 'Risk band', [['high', 'High'], ['medium', 'Medium'], ['low', 'Low']], q.get('band')),
    select('reason', 'Strongest reason', (summary.reasons || []).map((f) => [f.name, humanise(f.name)]), q.get('reason')),
    select('region', 'Region', (summary.regions || []).map((f) => f.name).sort().map((n) => [n, n]), q.get('region')),
    h('div', { class: 'field' }, h('label', { for: 'f-min_probability' }, 'Min. probability (%)'),
      h('input', { id: 'f-min_probability', name: 'min_probability', type: 'number', min: 0, max: 100, step: 1, inputmode: 'numeric',
        value: q.get('min_probability') ? Math.round(parseFloat(q.get('min_probability')) * 100) : '' })),
    h('div', { class: 'field' }, h('label', { for: 'f-sort' }, 'Sort by'),
      h('select', { id: 'f-sort', name: 'sort' }, Object.entries(SORTS).map(([v, t]) => h('option', { value: v, selected: v === (q.get('sort') || 'expected_loss') }, t)))),
    h('div', { class: 'field' }, h('label', { for: 'f-limit' }, 'Rows per page'),
      h('select', { id: 'f-limit', name: 'limit' }, ['25', '50', '100', '250'].map((n) => h('option', { value: n, selected: n === (q.get('limit') || '50') }, n)))),
    h('div', { class: 'field buttons' },
      h('button', { type: 'submit', id: 'apply-filters' }, 'Apply'),
      h('button', { type: 'button', class: 'secondary', onclick: () => go(new URLSearchParams()) }, 'Clear'),
      h('button', { type: 'button', class: 'secondary', id: 'export-csv', onclick: () => exportCSV(q) }, 'Export CSV')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (!v) continue;
      if (k === 'min_probability') next.set(k, String(Math.min(100, Math.max(0, Number(v))) / 100));
      else if (!(k === 'sort' && v === 'expected_loss') && !(k === 'limit' && v === '50')) next.set(k, v);
    }
    go(next);
  });
  return form;
}

async function exportCSV(q) {
  const url = new URLSearchParams(q);
  url.delete('limit');
  url.set('format', 'csv');
  try {
    await api.download('/v1/scores?' + url, 'risk-list.csv');
    toast('CSV export started.');
  } catch (err) {
    toast('Export failed: ' + err.message, true);
  }
}

function sortHeader(key, label, current, q) {
  const active = key === current;
  const next = new URLSearchParams(q);
  next.set('sort', key);
  return h('th', { scope: 'col', 'aria-sort': active ? 'descending' : 'none', class: 'num' },
    h('button', { type: 'button', class: 'sort' + (active ? ' active' : ''), 'aria-label': `Sort by ${label.toLowerCase()}, largest first`, onclick: () => go(next) },
      label, active ? ' ▼' : ''));
}

function resultTable(items, sort, q, page, limit) {
  if (items.length === 0) return h('p', { id: 'risk-empty' }, 'No customer matches these filters.');
  const offset = page * Number(limit || 50);
  return table(`Customers ranked by ${SORTS[sort].toLowerCase()}`, [
    h('th', { scope: 'col', class: 'num' }, '#'),
    h('th', { scope: 'col' }, 'Customer'),
    sortHeader('probability', 'Probability', sort, q),
    h('th', { scope: 'col' }, 'Band'),
    h('th', { scope: 'col' }, 'Tier'),
    sortHeader('lifetime_value', 'Lifetime value', sort, q),
    sortHeader('expected_loss', 'Expected loss', sort, q),
    h('th', { scope: 'col' }, 'Strongest reason'),
  ], items.map((s, i) => h('tr', { 'data-customer': s.customer_id, 'data-tier': s.tier, 'data-band': s.band },
    h('td', { class: 'num muted' }, offset + i + 1),
    h('td', {}, h('a', { href: '#/customer/' + encodeURIComponent(s.customer_id) }, s.customer_id)),
    h('td', { class: 'num' }, fmtPct(s.probability)),
    h('td', {}, h('span', { class: 'band band-' + s.band }, s.band)),
    h('td', {}, s.tier),
    h('td', { class: 'num' }, fmtMoney(s.lifetime_value)),
    h('td', { class: 'num' }, fmtMoney(s.expected_loss)),
    h('td', { class: 'reason', 'data-feature': s.reasons[0] ? s.reasons[0].feature : '' }, s.reasons[0] ? s.reasons[0].text : '–'))),
  { class: 'risk-table', id: 'risk-table' });
}

function pager(data, q, page) {
  const prev = h('button', { type: 'button', class: 'secondary', disabled: page === 0, onclick: () => { paging.cursors.pop(); window.dispatchEvent(new HashChangeEvent('hashchange')); } }, '← Previous page');
  const next = h('button', { type: 'button', id: 'next-page', disabled: !data.next_cursor, onclick: () => { paging.cursors.push(data.next_cursor); window.dispatchEvent(new HashChangeEvent('hashchange')); } }, 'Next page →');
  return h('nav', { class: 'pager', 'aria-label': 'Pages of the risk list' }, prev, h('span', { 'aria-live': 'polite' }, `Page ${page + 1}`), next);
}

