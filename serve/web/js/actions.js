// Action queue: counts by status, tier and action, claiming and completing
// for agents, and the lift of treated customers against the control group.
import { api, optional } from './api.js';
import { h, card, table, unavailable, errorBox, toast } from './dom.js';
import { fmtInt, fmtMoney, fmtPct, fmtTime, humanise } from './format.js';
import { can, needs, agentName } from './role.js';

const STATUSES = ['queued', 'claimed', 'done'];
const TIERS = ['A', 'B', 'C'];
const KINDS = ['specialist_call', 'offer', 'email', 'sms'];
const AGENT = 'churn.agent';

const rerender = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

// count asks for the number of actions matching a filter.
const count = (q) => api.get(`/v1/actions?${new URLSearchParams({ ...q, limit: '1' })}`).then((r) => r.total);

export async function actionQueue(root, { stale }) {
  const probe = await optional('/v1/actions?limit=1').catch((e) => e);
  if (stale()) return;
  root.append(h('h1', {}, 'Action queue'));
  if (probe === null || probe instanceof Error) {
    root.append(card('Retention actions', 'queue-card', probe === null ? unavailable('Retention actions') : errorBox(probe)));
    const lift = await optional('/v1/retention/lift').catch((e) => e);
    if (!stale()) root.append(liftCard(lift), ratesCard(lift));
    return;
  }
  // An agent works as their key's name; an admin may act for any agent.
  const agent = can('admin') ? sessionStorage.getItem(AGENT) || agentName() : agentName();
  const cells = [];
  for (const s of STATUSES) {
    for (const t of TIERS) cells.push(count({ status: s, tier: t }).then((n) => ['t', s, t, n]));
    for (const k of KINDS) cells.push(count({ status: s, kind: k }).then((n) => ['k', s, k, n]));
  }
  const [counts, queued, mine, lift] = await Promise.all([
    Promise.all(cells),
    api.get('/v1/actions?status=queued&limit=20'),
    agent && can(needs.claim) ? api.get(`/v1/actions?${new URLSearchParams({ status: 'claimed', agent, limit: '50' })}`) : null,
    optional('/v1/retention/lift').catch((e) => e),
  ]);
  if (stale()) return;
  const n = {};
  for (const [by, s, v, c] of counts) n[`${by}:${s}:${v}`] = c;
  root.append(
    h('div', { class: 'grid two' },
      card('By value tier', 'queue-tiers', countTable('Actions by status and value tier', TIERS.map((t) => `Tier ${t}`), TIERS.map((t) => (s) => n[`t:${s}:${t}`]), 'tier')),
      card('By action', 'queue-kinds', countTable('Actions by status and kind of action', KINDS.map(humanise), KINDS.map((k) => (s) => n[`k:${s}:${k}`]), 'kind'))),
    can(needs.claim) ? agentCard(agent, mine) : null,
    card('Next in the queue', 'queue-next', queued.items.length === 0 ? h('p', { id: 'queue-empty' }, 'The queue is empty.')
      : actionTable(queued.items, { caption: `The first ${queued.items.length} of ${fmtInt(queued.total)} queued actions, in the order they are claimed`, showCustomer: true })),
    liftCard(lift),
    ratesCard(lift),
  );
}

function countTable(caption, rowLabels, getters, what) {
  return table(caption, [h('th', { scope: 'col' }, humanise(what)), ...STATUSES.map((s) => h('th', { scope: 'col', class: 'num' }, humanise(s)))],
    rowLabels.map((label, i) => h('tr', {}, h('th', { scope: 'row' }, label),
      STATUSES.map((s) => h('td', { class: 'num', 'data-status': s }, fmtInt(getters[i](s)))))), { class: 'compact', id: `counts-${what}` });
}

function agentCard(agent, mine) {
  const admin = can('admin');
  const claimForm = h('form', { class: 'inline-form', id: 'claim-form', 'aria-label': 'Claim actions' },
    admin ? h('div', { class: 'field' }, h('label', { for: 'agent-name' }, 'Agent to act for'),
      h('input', { id: 'agent-name', name: 'agent', required: true, maxlength: 128, value: agent, autocomplete: 'username' }))
      : h('p', { id: 'agent-self' }, 'You work as ', h('strong', {}, agent), ' (the name of your API key).'),
    h('div', { class: 'field' }, h('label', { for: 'claim-n' }, 'How many'),
      h('select', { id: 'claim-n', name: 'limit' }, ['1', '5', '10'].map((v) => h('option', { value: v }, v)))),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', id: 'claim-next' }, 'Claim next')));
  claimForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(claimForm);
    const body = { limit: Number(f.get('limit')) };
    if (admin) {
      body.agent = String(f.get('agent')).trim();
      sessionStorage.setItem(AGENT, body.agent);
    }
    try {
      const r = await api.post('/v1/actions/claim', body);
      toast(r.actions.length ? `Claimed ${r.actions.length} action${r.actions.length === 1 ? '' : 's'}.` : 'Nothing to claim: the queue is empty.');
      rerender();
    } catch (err) {
      toast('Could not claim: ' + err.message, true);
    }
  });
  let list = h('p', { class: 'muted' }, 'Claim actions to work them here.');
  if (mine) {
    list = mine.items.length === 0 ? h('p', { id: 'mine-empty' }, `${agent} holds no claimed actions.`)
      : actionTable(mine.items, { caption: `Claimed by ${agent}`, showCustomer: true, controls: agent, id: 'my-actions' });
  }
  return card('Work the queue', 'agent-card', claimForm, list);
}

// actionTable lists actions; with controls (the agent's name) each row can
// be completed with an outcome or cancelled.
export function actionTable(items, { caption, showCustomer, controls, id }) {
  const headers = [showCustomer ? 'Customer' : null, 'Action', 'Tier · band', 'Reason', 'Status', 'Value', 'Created', controls ? 'Outcome' : null].filter(Boolean);
  return table(caption, headers, items.map((a) => h('tr', { 'data-action': a.action_id, 'data-status': a.status },
    showCustomer ? h('td', {}, h('a', { href: '#/customer/' + encodeURIComponent(a.customer_id) }, a.customer_id)) : null,
    h('td', {}, humanise(a.kind), a.offer ? ` (${a.offer})` : '', a.rule === 'manual' ? h('span', { class: 'badge' }, 'manual') : null),
    h('td', {}, `${a.tier} · ${a.band}`),
    h('td', {}, humanise(a.reason) || '–'),
    h('td', {}, h('span', { class: 'status status-' + a.status }, a.status), a.outcome ? ` · ${a.outcome}` : '', a.agent ? ` · ${a.agent}` : ''),
    h('td', { class: 'num' }, fmtMoney(a.expected_value)),
    h('td', {}, fmtTime(a.created_at)),
    controls ? h('td', {}, completeControls(a, controls)) : null)), { class: 'compact actions-table', id });
}

function completeControls(a, agent) {
  const sel = h('select', { 'aria-label': `Outcome for ${a.customer_id}`, class: 'outcome' },
    ['accepted', 'declined', 'unreachable'].map((o) => h('option', { value: o }, humanise(o))));
  const act = async (path, body, done) => {
    try {
      await api.post(path, body);
      toast(done);
      rerender();
    } catch (err) {
      toast(err.message, true);
    }
  };
  return h('div', { class: 'row-controls' }, sel,
    can(needs.complete) ? h('button', { type: 'button', class: 'complete', 'aria-label': `Complete the action for ${a.customer_id}`,
      onclick: () => act(`/v1/actions/${encodeURIComponent(a.action_id)}/complete`, { outcome: sel.value, agent: agent || undefined }, `Completed: ${a.customer_id} ${sel.value}.`) }, 'Complete') : null,
    can(needs.cancel) ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Cancel the action for ${a.customer_id}`,
      onclick: () => act(`/v1/actions/${encodeURIComponent(a.action_id)}/cancel`, {}, `Cancelled the action for ${a.customer_id}.`) }, 'Cancel') : null);
}

function rate(r) {
  return r === null || r === undefined ? '–' : fmtPct(r);
}

function liftRow(label, r) {
  const ci = r.saved_rate_ci_low === null || r.saved_rate_ci_low === undefined ? '–' : `${fmtPct(r.saved_rate_ci_low)} to ${fmtPct(r.saved_rate_ci_high)}`;
  return h('tr', {}, h('th', { scope: 'row' }, label),
    h('td', { class: 'num' }, `${fmtInt(r.treated)} (${rate(r.treated_churn_rate)} churned)`),
    h('td', { class: 'num' }, `${fmtInt(r.control)} (${rate(r.control_churn_rate)} churned)`),
    h('td', { class: 'num' }, rate(r.saved_rate)),
    h('td', { class: 'num' }, ci),
    h('td', { class: 'num' }, fmtInt(r.accepted)),
    h('td', { class: 'num' }, fmtMoney(r.cost)),
    h('td', { class: 'num' }, fmtMoney(r.revenue_saved)));
}

function liftCard(lift) {
  if (lift === null) return card('Lift: treated against control', 'lift-card', unavailable('The lift report'));
  if (lift instanceof Error) return card('Lift: treated against control', 'lift-card', errorBox(lift));
  const rows = [liftRow('All', lift.all), ...lift.by_tier.map((r) => liftRow(`Tier ${r.segment}`, r)), ...lift.by_action.map((r) => liftRow(humanise(r.segment), r))];
  return card('Lift: treated against control', 'lift-card',
    h('p', { class: 'muted' }, lift.cycles.length ? `Cycles with known outcomes: ${lift.cycles.join(', ')}.` : 'No cycle has reached its horizon yet, so no outcome is known.'),
    table('Churn of treated customers against the control group; saved rate = control churn rate − treated churn rate, with its 95% confidence interval',
      ['Group', 'Treated', 'Control', 'Saved rate', '95% interval', 'Accepted', 'Cost', 'Revenue saved'], rows, { class: 'compact', id: 'lift-table' }));
}

// ratesCard shows, per action, tier and reason, the response rates the
// policy assumes against those learned from outcomes (posterior means with
// 95% credible intervals) and the outcomes behind them.
function ratesCard(lift) {
  if (lift === null || lift instanceof Error || !lift.rates) return null;
  const cri = (lo, hi) => `${fmtPct(lo)} to ${fmtPct(hi)}`;
  const rows = lift.rates.map((r) => h('tr', {},
    h('th', { scope: 'row' }, `${humanise(r.action)}, tier ${r.tier}, ${r.reason === 'all' ? 'all reasons' : humanise(r.reason)}`),
    h('td', { class: 'num' }, `${fmtInt(r.treated)} / ${fmtInt(r.control)}`),
    h('td', { class: 'num' }, fmtPct(r.save_rate_assumed)),
    h('td', { class: 'num' }, fmtPct(r.save_rate_learned)),
    h('td', { class: 'num' }, cri(r.save_rate_cri_low, r.save_rate_cri_high)),
    h('td', { class: 'num' }, `${fmtPct(r.harm_rate_learned)} (${cri(r.harm_rate_cri_low, r.harm_rate_cri_high)})`),
    h('td', { class: 'num' }, fmtPct(r.accept_rate_assumed)),
    h('td', { class: 'num' }, `${fmtPct(r.accept_rate_learned)} of ${fmtInt(r.worked)}`),
    h('td', { class: 'num' }, cri(r.accept_rate_cri_low, r.accept_rate_cri_high))));
  return card('Response rates: assumed and learned', 'rates-card',
    h('p', { class: 'muted' }, lift.rates.length ? 'The planner values actions with the learned save rates; the policy\'s rates are their priors.' : 'No outcome is known yet: the planner uses the policy\'s rates.'),
    lift.rates.length ? table('Save rate = share of would-be churners kept; harm rate = share of would-be stayers the action made leave; acceptance rate = share of worked actions accepted',
      ['Segment', 'Treated / control', 'Save assumed', 'Save learned', '95% credible interval', 'Harm learned (95%)', 'Accept assumed', 'Accept learned', '95% credible interval'], rows, { class: 'compact', id: 'rates-table' }) : null);
}
