/**
 * Charts of a suite report (Chart in suite.ts) as standalone SVG: no scripts, no external fonts
 * or styles, so that the HTML report reads the same opened from disk years later.
 *
 * - `cdf`: latency (log x: latencies span microseconds to the tail's milliseconds) against
 *   percentile (linear y, 0..100);
 * - `throughput`: operations/s (linear y from 0) against operations in flight (log2 x: the
 *   levels double);
 * - `bars`: grouped bars, one group per label, one bar per series.
 */
import { formatNs } from './report.js';
import type { Chart, ChartSeries } from './suite.js';

const WIDTH = 720;
const HEIGHT = 400;
const MARGIN = { top: 36, right: 24, bottom: 64, left: 76 };
/** Colours distinguishable in print and by most colour-blind readers (Okabe-Ito). */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A number with at most 4 significant digits and thousands separators: 123,400 or 0.0125. */
function formatValue(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${(v / 1e6).toPrecision(3).replace(/\.?0+$/, '')}M`;
  if (abs >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(3)));
}

/** A round duration without trailing zeros: `2 ms`, not `2.00 ms`. */
function tickNs(ns: number): string {
  return formatNs(ns).replace(/(\.\d*?)0+ /, '$1 ').replace('. ', ' ');
}

/** Round tick values (1, 2 or 5 times a power of ten) covering [min, max]. */
export function linearTicks(min: number, max: number, target = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The round step whose tick count comes closest to the target.
  const step = [1, 2, 5, 10]
    .map((m) => m * mag)
    .reduce((best, s) => (Math.abs((max - min) / s - target) < Math.abs((max - min) / best - target) ? s : best));
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** 1-2-5 ticks per decade within [min, max] (only the powers of ten when the range is wide). */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const mults = hi - lo > 4 ? [1] : [1, 2, 5];
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) for (const m of mults) {
    const v = m * 10 ** e;
    if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
  }
  return out;
}

interface Scale {
  (v: number): number;
  ticks: number[];
  label: (v: number) => string;
}

function linearScale(min: number, max: number, from: number, to: number, label: (v: number) => string): Scale {
  const ticks = linearTicks(min, max);
  const lo = Math.min(min, ticks[0]!);
  const hi = Math.max(max, ticks[ticks.length - 1]!);
  const span = hi - lo || 1;
  return Object.assign((v: number) => from + ((v - lo) / span) * (to - from), { ticks, label });
}

function logScale(min: number, max: number, from: number, to: number, base: number, label: (v: number) => string): Scale {
  // Widen a degenerate range (one point) so that the point lands in the middle.
  const lo = Math.log(max > min ? min : min / base) / Math.log(base);
  const hi = Math.log(max > min ? max : max * base) / Math.log(base);
  const ticks =
    base === 2
      ? Array.from({ length: Math.floor(hi) - Math.ceil(lo) + 1 }, (_, i) => 2 ** (Math.ceil(lo) + i))
      : logTicks(base ** lo, base ** hi);
  return Object.assign((v: number) => from + ((Math.log(v) / Math.log(base) - lo) / (hi - lo)) * (to - from), { ticks, label });
}

function frame(title: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" ` +
    `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12" role="img" aria-label="${escapeXml(title)}">` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>` +
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(title)}</text>` +
    body +
    '</svg>'
  );
}

function axes(x: Scale, y: Scale, xTitle: string, yTitle: string): string {
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  let s = '';
  for (const t of y.ticks) {
    const py = y(t).toFixed(1);
    s += `<line x1="${left}" x2="${right}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`;
    s += `<text x="${left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeXml(y.label(t))}</text>`;
  }
  for (const t of x.ticks) {
    const px = x(t).toFixed(1);
    s += `<line x1="${px}" x2="${px}" y1="${top}" y2="${bottom}" stroke="#f0f0f0"/>`;
    s += `<text x="${px}" y="${bottom + 16}" text-anchor="middle">${escapeXml(x.label(t))}</text>`;
  }
  s += `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`;
  s += `<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#333"/>`;
  s += `<text x="${(left + right) / 2}" y="${bottom + 36}" text-anchor="middle">${escapeXml(xTitle)}</text>`;
  s += `<text transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yTitle)}</text>`;
  return s;
}

function legend(names: readonly string[]): string {
  let s = '';
  let px = MARGIN.left;
  const py = HEIGHT - 12;
  names.forEach((name, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    s += `<rect x="${px}" y="${py - 9}" width="12" height="10" fill="${color}"/>`;
    s += `<text x="${px + 16}" y="${py}">${escapeXml(name)}</text>`;
    px += 28 + name.length * 6.5;
  });
  return s;
}

function polyline(points: readonly (readonly [number, number])[], x: Scale, y: Scale, color: string, markers: boolean): string {
  const coords = points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`);
  let s = `<polyline fill="none" stroke="${color}" stroke-width="2" points="${coords.join(' ')}"/>`;
  if (markers) for (const c of coords) {
    const [cx, cy] = c.split(',');
    s += `<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}"/>`;
  }
  return s;
}

function noData(title: string): string {
  return frame(title, `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" fill="#777">no data</text>`);
}

function extent(series: readonly ChartSeries[], axis: 0 | 1, positiveOnly: boolean): [number, number] | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const s of series) for (const p of s.points) {
    const v = p[axis];
    if (!Number.isFinite(v) || (positiveOnly && v <= 0)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return min <= max ? [min, max] : undefined;
}

function cdfChart(title: string, series: readonly ChartSeries[]): string {
  const xs = extent(series, 0, true);
  if (xs === undefined) return noData(title);
  const x = logScale(xs[0], xs[1], MARGIN.left, WIDTH - MARGIN.right, 10, tickNs);
  const y = linearScale(0, 100, HEIGHT - MARGIN.bottom, MARGIN.top, (v) => `${v}%`);
  let body = axes(x, y, 'latency (log scale)', 'percentile');
  series.forEach((s, i) => {
    body += polyline(s.points.filter((p) => p[0] > 0), x, y, PALETTE[i % PALETTE.length]!, false);
  });
  return frame(title, body + legend(series.map((s) => s.name)));
}

function throughputChart(title: string, series: readonly ChartSeries[]): string {
  const xs = extent(series, 0, true);
  const ys = extent(series, 1, false);
  if (xs === undefined || ys === undefined) return noData(title);
  const x = logScale(xs[0], xs[1], MARGIN.left, WIDTH - MARGIN.right, 2, (v) => String(v));
  const y = linearScale(0, ys[1] * 1.05, HEIGHT - MARGIN.bottom, MARGIN.top, formatValue);
  let body = axes(x, y, 'in flight (log2 scale)', 'per second');
  series.forEach((s, i) => {
    body += polyline(s.points.filter((p) => p[0] > 0), x, y, PALETTE[i % PALETTE.length]!, true);
  });
  return frame(title, body + legend(series.map((s) => s.name)));
}

function barsChart(title: string, unit: string, labels: readonly string[], series: readonly ChartSeries[]): string {
  const ys = extent(series, 1, false);
  if (ys === undefined || labels.length === 0) return noData(title);
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const bottom = HEIGHT - MARGIN.bottom;
  const y = linearScale(0, Math.max(ys[1], 0) * 1.1 || 1, bottom, MARGIN.top, formatValue);
  const groupWidth = (right - left) / labels.length;
  const barWidth = (groupWidth * 0.8) / Math.max(series.length, 1);
  let body = '';
  for (const t of y.ticks) {
    const py = y(t).toFixed(1);
    body += `<line x1="${left}" x2="${right}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`;
    body += `<text x="${left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatValue(t))}</text>`;
  }
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]!;
    for (const [xi, v] of s.points) {
      if (!Number.isFinite(v) || xi < 0 || xi >= labels.length) continue;
      const px = left + xi * groupWidth + groupWidth * 0.1 + si * barWidth;
      const py = y(Math.max(v, 0));
      body += `<rect x="${px.toFixed(1)}" y="${py.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(bottom - py).toFixed(1)}" fill="${color}"><title>${escapeXml(`${labels[xi]}, ${s.name}: ${formatValue(v)} ${unit}`)}</title></rect>`;
      body += `<text x="${(px + barWidth / 2 - 1).toFixed(1)}" y="${(py - 4).toFixed(1)}" text-anchor="middle" font-size="10">${escapeXml(formatValue(v))}</text>`;
    }
  });
  labels.forEach((l, i) => {
    // A long label wraps at its commas rather than running into its neighbours.
    const cx = (left + (i + 0.5) * groupWidth).toFixed(1);
    const lines = l.split(', ').map((line, k) => `<tspan x="${cx}" dy="${k === 0 ? 0 : 13}">${escapeXml(line)}</tspan>`);
    body += `<text x="${cx}" y="${bottom + 16}" text-anchor="middle" font-size="11">${lines.join('')}</text>`;
  });
  body += `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`;
  body += `<line x1="${left}" x2="${left}" y1="${MARGIN.top}" y2="${bottom}" stroke="#333"/>`;
  body += `<text transform="translate(16 ${(MARGIN.top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(unit)}</text>`;
  return frame(title, body + legend(series.map((s) => s.name)));
}

/** One chart as an `<svg>` element, ready to inline in HTML or to save as a .svg file. */
export function renderChart(chart: Chart): string {
  switch (chart.kind) {
    case 'cdf':
      return cdfChart(chart.title, chart.series);
    case 'throughput':
      return throughputChart(chart.title, chart.series);
    case 'bars':
      return barsChart(chart.title, chart.unit, chart.labels, chart.series);
  }
}
