// Number and date formats of the page, in the browser's locale.
const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const money2 = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export const fmtInt = (n) => (n === undefined || n === null ? '–' : int.format(n));
export const fmtMoney = (n) => (n === undefined || n === null ? '–' : money2.format(n));
export const fmtCompact = (n) => (n === undefined || n === null ? '–' : compact.format(n));
export const fmtPct = (p, digits = 1) => (p === undefined || p === null ? '–' : (p * 100).toFixed(digits) + '%');
export const fmtNum = (n, digits = 3) => (n === undefined || n === null ? '–' : Number(n).toFixed(digits));

export function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// humanise turns a feature or enum name into words: data_trend_30d -> Data trend 30d.
export function humanise(name) {
  if (!name) return '';
  const s = String(name).replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
