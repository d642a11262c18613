import { describe, expect, it } from 'vitest';
import { cdfPoints, newHistogram } from '../lib/histogram.js';
import { renderHtmlReport } from '../lib/html-report.js';
import type { MachineInfo } from '../lib/machine.js';
import type { Chart } from '../lib/suite.js';
import { linearTicks, logTicks, renderChart } from '../lib/svg-chart.js';

const machine: MachineInfo = {
  cpuModel: 'Test CPU <3 GHz>',
  cores: 2,
  totalMemoryGiB: 7.8,
  platform: 'linux 6.1',
  arch: 'x64',
  nodeVersion: 'v20.20.2',
  v8Version: '11.3',
  gitCommit: '0123456789abcdef0123456789abcdef01234567',
  gitDirty: true,
};

/** Every opening tag closed, in order: enough to catch a builder that emits broken markup. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing === '/') continue;
    if (closing === '/') expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

function histogramOf(values: readonly number[]): ReturnType<typeof newHistogram> {
  const h = newHistogram();
  for (const v of values) h.recordValue(v);
  return h;
}

describe('cdfPoints', () => {
  it('runs from the minimum at 0% to the maximum at 100%, ascending in both coordinates', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => 1000 + ((i * 7919) % 10_000) * 37);
    const points = cdfPoints(histogramOf(values));
    expect(points.length).toBeGreaterThan(50);
    expect(points.length).toBeLessThanOrEqual(110);
    expect(points[0]![1]).toBe(0);
    expect(points[points.length - 1]![1]).toBe(100);
    expect(points[0]![0]).toBeLessThanOrEqual(1001);
    expect(points[points.length - 1]![0]).toBeGreaterThanOrEqual(Math.max(...values) * 0.999);
    for (let i = 1; i < points.length; i++) {
      expect(points[i]![0]).toBeGreaterThan(points[i - 1]![0]);
      expect(points[i]![1]).toBeGreaterThanOrEqual(points[i - 1]![1]);
    }
  });

  it('is empty for an empty histogram and one step for a single value', () => {
    expect(cdfPoints(newHistogram())).toEqual([]);
    const one = cdfPoints(histogramOf([5000, 5000, 5000]));
    expect(one.length).toBeLessThanOrEqual(2);
    for (const [ns] of one) expect(Math.abs(ns - 5000)).toBeLessThanOrEqual(5);
    expect(one[one.length - 1]![1]).toBe(100);
  });
});

describe('axis ticks', () => {
  it('are round numbers covering the range', () => {
    expect(linearTicks(0, 100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(linearTicks(0, 123_000)).toEqual([0, 20_000, 40_000, 60_000, 80_000, 100_000, 120_000]);
    expect(logTicks(1e4, 1e6)).toEqual([1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6]);
    expect(logTicks(1e3, 1e9)).toEqual([1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]);
  });
});

const charts: Chart[] = [
  {
    kind: 'cdf',
    title: 'latency <1 KiB>',
    series: [
      { name: '1 in flight', points: cdfPoints(histogramOf([300_000, 350_000, 400_000, 1_300_000])) },
      { name: '64 in flight', points: cdfPoints(histogramOf([800_000, 900_000, 5_000_000])) },
    ],
  },
  {
    kind: 'throughput',
    title: 'commits/s',
    series: [{ name: '128 B', points: [[1, 2700], [8, 20_000], [64, 90_000], [256, 120_000]] }],
  },
  {
    kind: 'bars',
    title: 'one at a time',
    unit: 'µs',
    labels: ['fdatasync', 'SQLite commit', 'replicator 128 B, 1 in flight'],
    series: [
      { name: 'p50', points: [[0, 90], [1, 120], [2, 370]] },
      { name: 'p99', points: [[0, 400], [1, 500], [2, 1300]] },
    ],
  },
];

describe('renderChart', () => {
  it('draws one line per series for cdf and throughput charts, with escaped titles', () => {
    const cdf = renderChart(charts[0]!);
    expect(cdf.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(cdf.match(/<polyline /g)?.length).toBe(2);
    expect(cdf).toContain('latency &lt;1 KiB&gt;');
    // log x axis: round durations as ticks, without trailing zeros.
    expect(cdf).toContain('>1 ms</text>');
    expect(cdf).not.toContain('.00 ms');
    expect(cdf).not.toContain('NaN');
    assertBalanced(cdf);

    const tp = renderChart(charts[1]!);
    expect(tp.match(/<polyline /g)?.length).toBe(1);
    expect(tp.match(/<circle /g)?.length).toBe(4);
    // log2 x axis: the levels themselves are the ticks.
    for (const level of ['1', '8', '64', '256']) expect(tp).toContain(`>${level}</text>`);
    expect(tp).not.toContain('NaN');
    assertBalanced(tp);
  });

  it('draws one bar per value, taller for larger values', () => {
    const bars = renderChart(charts[2]!);
    const heights = [...bars.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)" fill="[^"]+"><title>/g)].map((m) => Number(m[1]));
    expect(heights.length).toBe(6);
    expect(heights[2]!).toBeGreaterThan(heights[0]!);
    expect(heights[5]!).toBeGreaterThan(heights[3]!);
    assertBalanced(bars);
  });

  it('says so when there is nothing to draw', () => {
    const empty = renderChart({ kind: 'cdf', title: 'empty', series: [{ name: 'none', points: [] }] });
    expect(empty).toContain('no data');
    assertBalanced(empty);
  });
});

describe('renderHtmlReport', () => {
  const html = renderHtmlReport({
    suite: 'floor',
    description: 'the floor',
    startedAt: '2026-11-24T09:00:00.000Z',
    machine,
    options: { runs: 3 },
    text: 'a | b <c>\n1 | 2',
    charts,
  });

  it('shows the machine, the commit and the table', () => {
    expect(html).toContain('Test CPU &lt;3 GHz&gt;');
    expect(html).toContain('v20.20.2');
    expect(html).toContain(machine.gitCommit);
    expect(html).toContain('uncommitted changes');
    expect(html).toContain('<pre>a | b &lt;c&gt;\n1 | 2</pre>');
    expect(html.match(/<svg /g)?.length).toBe(3);
  });

  it('is self-contained: no scripts, no external resources', () => {
    expect(html).not.toMatch(/<script|<link|@import|url\(/i);
    expect(html).not.toMatch(/\b(?:src|href)=/i);
    // The only URL is the SVG namespace, which is a name, not a fetch.
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:/);
    assertBalanced(html.replace(/<!doctype html>/i, '').replace(/<meta [^>]*>/g, ''));
  });
});
