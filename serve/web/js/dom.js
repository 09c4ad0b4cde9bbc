// DOM helpers. Everything from the API is inserted as text, never as HTML.

// h builds an element: h('a', {href: '#', class: 'x', onclick: fn}, 'text', child).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') el.style.cssText = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// table builds a table with a caption, header cells and rows of cells.
export function table(caption, headers, rows, attrs = {}) {
  return h('table', attrs,
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((x) => (x instanceof Node ? x : h('th', { scope: 'col' }, x))))),
    h('tbody', {}, rows.map((r) => (r instanceof Node ? r : h('tr', {}, r.map((c) => (c instanceof Node && c.tagName === 'TD') ? c : h('td', {}, c)))))));
}

// card is a titled panel.
export function card(title, id, ...children) {
  const hid = id ? id + '-title' : undefined;
  return h('section', { class: 'card', id, 'aria-labelledby': hid }, h('h2', { id: hid }, title), ...children);
}

// unavailable is the state of a panel whose route this server does not have.
export function unavailable(what) {
  return h('p', { class: 'unavailable', 'data-state': 'unavailable' }, `${what}: not available on this server.`);
}

export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err && err.message ? err.message : String(err));
}

export function loading() {
  return h('p', { class: 'muted' }, 'Loading…');
}

let toastTimer;
// toast says briefly what just happened, to screen readers too.
export function toast(msg, isError = false) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.classList.toggle('error', isError);
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 5000);
}
