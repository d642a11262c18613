/**
 * Latency histograms (HDR: constant relative error at every magnitude, so p99 of a
 * microsecond-scale Ready and of a millisecond-scale stall are both exact to 3 digits).
 * Values are recorded in nanoseconds.
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

export type { Histogram };

export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    // One minute in ns: anything slower than that is a hang, not a latency.
    highestTrackableValue: 60e9,
    numberOfSignificantValueDigits: 3,
    // A fixed range makes recordValue() branch-free of resizing on the measured path.
    autoResize: false,
  });
}

/** Percentiles of one histogram, in nanoseconds. */
export interface LatencySummary {
  count: number;
  meanNs: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
}

export function summarize(h: Histogram): LatencySummary {
  return {
    count: h.totalCount,
    meanNs: Math.round(h.mean),
    p50Ns: h.getValueAtPercentile(50),
    p90Ns: h.getValueAtPercentile(90),
    p99Ns: h.getValueAtPercentile(99),
    p999Ns: h.getValueAtPercentile(99.9),
    maxNs: h.maxValue,
  };
}

/**
 * About 100 points of the histogram's distribution, `[latency ns, percentile]`, x ascending, for
 * a latency CDF (Chart `cdf` in suite.ts): every 2% of the body, then points spaced evenly in
 * log(1 - p) through the tail up to 99.999%, and the minimum and the maximum, so that both the
 * median and the slowest one-in-a-thousand are drawn from real values.
 */
export function cdfPoints(h: Histogram): [ns: number, percentile: number][] {
  if (h.totalCount === 0) return [];
  const percentiles: number[] = [];
  for (let p = 2; p < 98; p += 2) percentiles.push(p);
  // 98% .. 99.999%: 1 - p from 2e-2 down to 1e-5, evenly in log.
  const tail = 50;
  for (let i = 0; i <= tail; i++) percentiles.push(100 * (1 - 2e-2 * 10 ** ((-i / tail) * Math.log10(2e-2 / 1e-5))));
  const out: [number, number][] = [[h.minNonZeroValue, 0]];
  for (const p of percentiles) {
    const v = h.getValueAtPercentile(p);
    const last = out[out.length - 1]!;
    // Keep the curve monotone; equal values at higher percentiles move the point up, not right.
    if (v === last[0]) last[1] = p;
    else if (v > last[0]) out.push([v, p]);
  }
  const last = out[out.length - 1]!;
  if (h.maxValue > last[0]) out.push([h.maxValue, 100]);
  else last[1] = 100;
  return out;
}

/** A histogram sent between processes (its compressed base64 encoding, hdr-histogram-js). */
export function decodeHistogram(base64: string): Histogram {
  const h = newHistogram();
  h.add(hdr.decodeFromCompressedBase64(base64));
  return h;
}

/** One histogram holding every value of `hs` (for percentiles across runs). */
export function merged(hs: readonly Histogram[]): Histogram {
  const all = newHistogram();
  for (const h of hs) all.add(h);
  return all;
}

/**
 * Raw samples gathered during a measured run and recorded into a histogram after it: a
 * histogram's recordValue() costs more than a typed-array store (a log2 and a pow per value in
 * hdr-histogram-js), and in a loop whose turn takes a microsecond or two that would show up in
 * the throughput being measured.
 */
export class SampleBuffer {
  private buf = new Float64Array(1 << 16);
  private n = 0;

  /** Adds a duration in ms (performance.now() units). */
  push(ms: number): void {
    if (this.n === this.buf.length) this.grow();
    this.buf[this.n++] = ms;
  }

  private grow(): void {
    const bigger = new Float64Array(this.buf.length * 2);
    bigger.set(this.buf);
    this.buf = bigger;
  }

  get length(): number {
    return this.n;
  }

  /** Records every sample (converted to ns) into a new histogram. */
  toHistogram(): Histogram {
    const h = newHistogram();
    for (let i = 0; i < this.n; i++) h.recordValue(Math.round(this.buf[i]! * 1e6));
    return h;
  }
}
