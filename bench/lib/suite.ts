/** What every benchmark suite provides to bench/run.ts. */

export interface SuiteOptions {
  /** Measured runs per configuration; medians are over these. */
  runs: number;
  /** Wall time of one measured run, in ms. */
  durationMs: number;
  /** Unmeasured runs first, so that the JIT has compiled the hot paths. */
  warmupRuns: number;
  /** Only configurations whose name contains this. */
  filter: string | undefined;
}

/** One line of a chart: a name and its points, x ascending. */
export interface ChartSeries {
  name: string;
  points: readonly (readonly [x: number, y: number])[];
}

/**
 * A chart for the suite's HTML report.
 * - `cdf`: latency distribution, x = latency in ns, y = percentile (0..100); one series per
 *   configuration (build the points with `cdfPoints` from lib/histogram.ts).
 * - `throughput`: x = operations in flight (concurrency), y = operations per second.
 * - `bars`: x = index of the bar, y = value; `labels[x]` names each bar; `unit` the y unit.
 */
export type Chart =
  | { kind: 'cdf'; title: string; series: readonly ChartSeries[] }
  | { kind: 'throughput'; title: string; series: readonly ChartSeries[] }
  | { kind: 'bars'; title: string; unit: string; labels: readonly string[]; series: readonly ChartSeries[] };

export interface SuiteReport {
  /** The human-readable report (tables, notes). */
  text: string;
  /** The same results in full, for the JSON file. */
  results: unknown;
  /** Charts for the self-contained HTML report written beside the JSON. */
  charts?: readonly Chart[];
}

export interface Suite {
  name: string;
  description: string;
  /** Overrides of the default options (a suite whose runs are long may want fewer). */
  defaults?: Partial<SuiteOptions>;
  /** Suites that are not part of a plain `pnpm bench` (they install things, or take long). */
  onDemand?: boolean;
  run(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport>;
}
