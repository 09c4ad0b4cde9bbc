// Charts with the vendored Chart.js (window.Chart, loaded before the modules).
// Each chart is a canvas with an accessible name that states its data in
// words, and the numbers are also in a table next to it for screen readers.
import { h } from './dom.js';

const live = new Set();

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function base() {
  const Chart = window.Chart;
  Chart.defaults.animation = false; // numbers, not motion; and stable screenshots
  Chart.defaults.color = css('--muted');
  Chart.defaults.borderColor = css('--grid');
  Chart.defaults.font.family = css('--font');
  Chart.defaults.maintainAspectRatio = false;
  return Chart;
}

// destroyCharts frees the charts of the view being left.
export function destroyCharts() {
  for (const c of live) c.destroy();
  live.clear();
}

function canvas(label) {
  const c = h('canvas', { role: 'img', 'aria-label': label });
  return [h('div', { class: 'chart' }, c), c];
}

// bars draws a bar chart of labels and values.
export function bars(label, labels, values, opts = {}) {
  const [box, c] = canvas(label);
  queueMicrotask(() => {
    const Chart = base();
    live.add(new Chart(c, {
      type: 'bar',
      data: { labels, datasets: [{ label: opts.series || label, data: values, backgroundColor: opts.colors || css('--accent') }] },
      options: {
        plugins: { legend: { display: false } },
        scales: { x: { title: { display: !!opts.x, text: opts.x } }, y: { beginAtZero: true, title: { display: !!opts.y, text: opts.y } } },
      },
    }));
  });
  return box;
}

// lines draws one or more series over shared labels.
export function lines(label, labels, series, opts = {}) {
  const [box, c] = canvas(label);
  queueMicrotask(() => {
    const Chart = base();
    live.add(new Chart(c, {
      type: 'line',
      data: {
        labels,
        datasets: series.map((s) => ({ label: s.label, data: s.data, borderColor: s.color, backgroundColor: s.color, pointRadius: 3, tension: 0.2 })),
      },
      options: {
        plugins: { legend: { display: series.length > 1, position: 'bottom' } },
        scales: {
          y: { beginAtZero: opts.zero !== false, suggestedMax: opts.max, title: { display: !!opts.y, text: opts.y },
            ticks: opts.percent ? { callback: (v) => Number((v * 100).toPrecision(2)) + '%' } : {} },
        },
      },
    }));
  });
  return box;
}
