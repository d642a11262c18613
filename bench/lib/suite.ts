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

export interface SuiteReport {
  /** The human-readable report (tables, notes). */
  text: string;
  /** The same results in full, for the JSON file. */
  results: unknown;
}

export interface Suite {
  name: string;
  description: string;
  /** Overrides of the default options (a suite whose runs are long may want fewer). */
  defaults?: Partial<SuiteOptions>;
  run(options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport>;
}
