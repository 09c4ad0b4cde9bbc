// Customer page: the score and its history, reasons in words, recent usage,
// billing and tickets, the customer's actions and, for those allowed, a form
// to queue an action by hand.
import { api, optional, ApiError } from './api.js';
import { h, card, table, unavailable, errorBox, toast } from './dom.js';
import { lines } from './charts.js';
import { fmtInt, fmtMoney, fmtPct, fmtNum, fmtTime, humanise } from './format.js';
import { can, needs } from './role.js';
import { actionTable } from './actions.js';

export async function customerPage(root, { arg, stale }) {
  const id = arg;
  const enc = encodeURIComponent(id);
  let score;
  try {
    score = await api.get(`/v1/customers/${enc}/score`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      root.append(h('h1', {}, `Customer ${id}`), h('p', { class: 'error', role: 'alert', id: 'customer-missing' }, err.message));
      return;
    }
    throw err;
  }
  const [history, profile, actions] = await Promise.all([
    api.get(`/v1/customers/${enc}/history`).catch((e) => e),
    optional(`/v1/customers/${enc}/profile`).catch((e) => e),
    optional(`/v1/actions?customer_id=${enc}&limit=50`).catch((e) => e),
  ]);
  if (stale()) return;
  root.append(
    h('h1', {}, `Customer ${id}`),
    h('div', { class: 'grid two' }, scoreCard(score), historyCard(history)),
    h('div', { class: 'grid two' }, reasonsCard(score), profileCard(profile)),
    usageCard(profile),
    h('div', { class: 'grid two' }, invoicesCard(profile), ticketsCard(profile)),
    actionsCard(id, actions),
  );
}

function scoreCard(s) {
  return card('Churn score', 'score-card',
    h('p', { class: 'big', id: 'customer-probability', 'data-value': s.probability }, fmtPct(s.probability),
      h('span', { class: 'band band-' + s.band }, `${s.band} risk`)),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Value tier'), h('dd', { id: 'customer-tier' }, s.tier),
      h('dt', {}, 'Lifetime value'), h('dd', {}, fmtMoney(s.lifetime_value)),
      h('dt', {}, 'Expected loss'), h('dd', {}, fmtMoney(s.expected_loss)),
      h('dt', {}, 'Scored'), h('dd', {}, `as of ${s.as_of} by model v${s.model_version}`)));
}

function historyCard(hist) {
  if (hist instanceof Error) return card('Probability over time', 'history-card', errorBox(hist));
  const pts = hist.scores;
  return card('Probability over time', 'history-card',
    lines(`Churn probability in the last ${pts.length} scoring runs, from ${fmtPct(pts[0].probability)} to ${fmtPct(pts[pts.length - 1].probability)}`,
      pts.map((p) => p.as_of), [{ label: 'churn probability', data: pts.map((p) => p.probability), color: '#2563eb' }], { percent: true, y: 'probability' }),
    h('p', { class: 'muted' }, `${pts.length} run${pts.length === 1 ? '' : 's'}.`));
}

function reasonsCard(s) {
  const max = Math.max(...s.reasons.map((r) => Math.abs(r.contribution)), 1e-9);
  return card('Why: the strongest reasons', 'reasons-card',
    s.reasons.length === 0 ? h('p', {}, 'No reasons recorded.') :
      h('ol', { class: 'reasons', id: 'customer-reasons' }, s.reasons.map((r) => h('li', {},
        h('span', { class: 'reason-text' }, r.text),
        h('meter', { min: 0, max: 1, value: Math.abs(r.contribution) / max, 'aria-label': `weight of ${humanise(r.feature)}` }),
        h('span', { class: 'muted small' }, `${humanise(r.feature)} · +${fmtNum(r.contribution, 2)} log-odds`)))));
}

const profileState = (p, title, id) => (p === null ? card(title, id, unavailable('Customer figures'))
  : p instanceof Error ? card(title, id, errorBox(p)) : null);

function profileCard(p) {
  const bad = profileState(p, 'Customer', 'profile-card');
  if (bad) return bad;
  const plan = p.plan;
  return card('Customer', 'profile-card', h('dl', { class: 'facts', id: 'customer-facts' },
    h('dt', {}, 'Region'), h('dd', {}, p.region),
    h('dt', {}, 'Segment'), h('dd', {}, humanise(p.segment)),
    h('dt', {}, 'Customer since'), h('dd', {}, p.signup_date),
    h('dt', {}, 'Payment'), h('dd', {}, humanise(p.payment_method)),
    h('dt', {}, 'Plan'), h('dd', {}, plan ? `${plan.plan}, ${humanise(plan.contract).toLowerCase()}, ${fmtMoney(plan.monthly_fee)} a month since ${plan.since}` : '–'),
    h('dt', {}, 'Outstanding balance'), h('dd', {}, fmtMoney(p.outstanding))),
  h('p', { class: 'muted small' }, `Figures from data before ${p.as_of}, the date of the score.`));
}

function usageCard(p) {
  const bad = profileState(p, 'Recent usage', 'usage-card');
  if (bad) return bad;
  const cols = p.usage.map((u) => `${u.from} – ${u.to}`);
  const row = (label, f) => [label, ...p.usage.map(f)];
  return card('Recent usage (30-day windows)', 'usage-card', table('Usage in the last 90 days, oldest window first', ['', ...cols], [
    row('Active days', (u) => fmtInt(u.active_days)),
    row('Voice minutes', (u) => fmtInt(u.voice_minutes)),
    row('Data (MB)', (u) => fmtInt(u.data_mb)),
    row('Calls', (u) => fmtInt(u.calls)),
    row('Dropped calls', (u) => fmtInt(u.dropped_calls)),
    row('SMS', (u) => fmtInt(u.sms)),
    row('International minutes', (u) => fmtInt(u.intl_minutes)),
    row('Roaming minutes', (u) => fmtInt(u.roaming_minutes)),
  ], { id: 'usage-table', class: 'compact' }));
}

function invoicesCard(p) {
  const bad = profileState(p, 'Billing', 'billing-card');
  if (bad) return bad;
  return card('Billing', 'billing-card', p.invoices.length === 0 ? h('p', {}, 'No invoices.') :
    table('Latest invoices and what was paid', ['Issued', 'Due', 'Amount', 'Paid', 'Paid on'], p.invoices.map((v) => [
      v.issued_at, v.due_date, fmtMoney(v.amount),
      h('td', { class: v.paid + 0.005 < v.amount ? 'warn' : '' }, fmtMoney(v.paid)), v.paid_at || 'unpaid']), { id: 'invoices-table', class: 'compact' }));
}

function ticketsCard(p) {
  const bad = profileState(p, 'Support tickets', 'tickets-card');
  if (bad) return bad;
  return card('Support tickets', 'tickets-card', p.tickets.length === 0 ? h('p', { id: 'no-tickets' }, 'No tickets.') :
    table('Latest tickets', ['Opened', 'Category', 'Resolved', 'Satisfaction'], p.tickets.map((t) => [
      fmtTime(t.opened_at), humanise(t.category), t.resolved_at ? fmtTime(t.resolved_at) : 'open',
      t.satisfaction ? `${t.satisfaction} / 5` : '–']), { id: 'tickets-table', class: 'compact' }));
}

function actionsCard(id, actions) {
  const body = actions === null ? unavailable('Retention actions')
    : actions instanceof Error ? errorBox(actions)
      : actions.items.length === 0 ? h('p', { id: 'no-actions' }, 'No retention actions for this customer.')
        : actionTable(actions.items, { caption: 'Retention actions of this customer', showCustomer: false });
  return card('Retention actions', 'customer-actions', body, actions !== null && can(needs.manualAction) ? manualForm(id) : null);
}

const KINDS = [['specialist_call', 'Specialist call'], ['offer', 'Offer'], ['email', 'Email'], ['sms', 'SMS']];

function manualForm(id) {
  const form = h('form', { class: 'inline-form', id: 'manual-action', 'aria-label': 'Queue an action by hand' },
    h('h3', {}, 'Queue an action'),
    h('div', { class: 'field' }, h('label', { for: 'ma-kind' }, 'Action'),
      h('select', { id: 'ma-kind', name: 'kind', required: true }, KINDS.map(([v, t]) => h('option', { value: v }, t)))),
    h('div', { class: 'field' }, h('label', { for: 'ma-offer' }, 'Offer (optional)'), h('input', { id: 'ma-offer', name: 'offer', maxlength: 128 })),
    h('div', { class: 'field grow' }, h('label', { for: 'ma-note' }, 'Note'), h('input', { id: 'ma-note', name: 'note', maxlength: 1000 })),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit' }, 'Queue action')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    try {
      const a = await api.post(`/v1/customers/${encodeURIComponent(id)}/actions`,
        { kind: f.get('kind'), offer: f.get('offer') || '', note: f.get('note') || '' });
      toast(`Queued ${humanise(a.kind).toLowerCase()} for ${id}.`);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (err) {
      toast('Could not queue the action: ' + err.message, true);
    }
  });
  return form;
}
