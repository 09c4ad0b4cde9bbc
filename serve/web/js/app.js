// Start-up, sign-in and the hash router of the dashboard.
import { api, session, ApiError } from './api.js';
import { errorBox } from './dom.js';
import { destroyCharts } from './charts.js';
import { setRole, setAgent, role } from './role.js';
import { overview } from './overview.js';
import { riskList } from './risk.js';
import { customerPage } from './customer.js';
import { actionQueue } from './actions.js';

const $ = (id) => document.getElementById(id);

const views = {
  overview: { title: 'Overview', render: overview },
  risk: { title: 'Risk list', render: riskList },
  customer: { title: 'Customer', render: customerPage },
  actions: { title: 'Action queue', render: actionQueue },
};

// parseHash reads #/view/arg?query.
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const [name, ...rest] = path.split('/');
  return { name: views[name] ? name : 'overview', arg: decodeURIComponent(rest.join('/')), params: new URLSearchParams(query) };
}

let renderSeq = 0;
async function render() {
  if (!role()) return;
  const { name, arg, params } = parseHash();
  const seq = ++renderSeq;
  destroyCharts();
  const view = $('view');
  view.replaceChildren();
  view.dataset.view = name;
  delete view.dataset.ready; // set again once this view has all its data
  document.title = `${views[name].title} · Churn dashboard`;
  for (const a of document.querySelectorAll('#nav a[data-view]')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    await views[name].render(view, { arg, params, stale: () => seq !== renderSeq });
  } catch (err) {
    if (seq === renderSeq) view.append(errorBox(err));
  }
  if (seq === renderSeq) view.dataset.ready = 'true';
}

function showLogin(message = '') {
  setRole(null);
  destroyCharts();
  $('view').replaceChildren();
  $('nav').hidden = true;
  $('session').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('api-key').focus();
}

function showApp(me) {
  setRole(me.role);
  setAgent(me.agent);
  document.body.dataset.role = me.role;
  $('login').hidden = true;
  $('nav').hidden = false;
  $('session').hidden = false;
  $('role-badge').textContent = `Signed in: ${me.role}`;
  $('role-badge').title = me.actor;
  render();
}

async function signIn(key) {
  try {
    const me = await api.whoami(key);
    session.set(key);
    showApp(me);
  } catch (err) {
    const msg = err instanceof ApiError && err.status === 401 ? 'This key is not valid on this server.' : err.message;
    showLogin(msg);
  }
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('api-key').value.trim();
  $('api-key').value = '';
  if (key) signIn(key);
});
$('logout').addEventListener('click', () => {
  session.clear();
  document.body.removeAttribute('data-role');
  showLogin('Signed out.');
});
$('open-customer').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = $('customer-search').value.trim();
  if (id) location.hash = '#/customer/' + encodeURIComponent(id);
});
window.addEventListener('hashchange', () => {
  render().then(() => $('main').focus({ preventScroll: true }));
});
window.addEventListener('churn:unauthorized', () => {
  session.clear();
  showLogin('The server no longer accepts this key; sign in again.');
});

if (session.key()) signIn(session.key());
else showLogin();

