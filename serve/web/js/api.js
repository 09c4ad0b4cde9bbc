// The API client of the page: every call carries the key of the session.
// The key lives in sessionStorage only, so it is gone when the tab closes.

const KEY = 'churn.apiKey';

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
  }
  // missingRoute tells whether the server lacks the route altogether, as an
  // older server or one without the retention or scheduler parts does.
  get missingRoute() {
    return this.status === 404 && /no such route/.test(this.message);
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

async function request(method, path, body, key = session.key()) {
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = 'Bearer ' + key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-cache' });
  if (res.status === 401 && key === session.key()) {
    window.dispatchEvent(new CustomEvent('churn:unauthorized'));
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body === undefined ? {} : body),
  whoami: (key) => request('GET', '/v1/me', undefined, key),
  // download fetches a file with the key and hands it to the browser.
  async download(path, filename) {
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + session.key() } });
    if (!res.ok) {
      let body = null;
      try { body = await res.json(); } catch { body = null; }
      throw new ApiError(res.status, body);
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  },
};

// routes reads the paths of the server's OpenAPI document, so that views
// can tell a route this server lacks from one that failed.
let routesPromise;
export function routes() {
  if (!routesPromise) {
    routesPromise = fetch('/openapi.yaml').then((r) => (r.ok ? r.text() : '')).then((yaml) => {
      const out = new Set();
      let inPaths = false;
      for (const line of yaml.split('\n')) {
        if (/^paths:\s*$/.test(line)) { inPaths = true; continue; }
        if (inPaths && /^\S/.test(line)) break;
        const m = inPaths && line.match(/^  (\/\S+):\s*$/);
        if (m) out.add(m[1]);
      }
      return out;
    }).catch(() => new Set());
  }
  return routesPromise;
}

// optional calls a read route and returns null when the server lacks it.
export async function optional(path) {
  try {
    return await api.get(path);
  } catch (err) {
    // A missing route, or a part this server was started without (the
    // scheduler answers 404 then): the view shows it as not available.
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
