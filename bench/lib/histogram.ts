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
