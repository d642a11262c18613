// Mutation testing of the safety-critical Raft core: see MUTATION.md.
// `MUTATE` (comma-separated globs or `file:start-end` ranges) narrows a run to a few files.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // pnpm does not hoist the runner beside @stryker-mutator/core, where Stryker looks by default.
  plugins: [import.meta.resolve('@stryker-mutator/vitest-runner')],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  checkers: [],
  mutate: process.env.MUTATE?.split(',') ?? [
    'src/raft.ts',
    'src/log/raft-log.ts',
    'src/log/unstable.ts',
    'src/quorum/*.ts',
    'src/tracker/progress.ts',
    'src/confchange/*.ts',
    'src/read-only.ts',
  ],
  // String literals in the core are log and error messages (the logger is silent in tests):
  // thousands of CPU-seconds of survivors that say nothing about safety.
  mutator: { excludedMutations: ['StringLiteral'] },
  ignorePatterns: ['dist', 'reports', '.stryker-tmp', '*.tsbuildinfo'],
  // Two workers: the machine has two cores, shared with other work.
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  // Mutants that loop forever (a send loop that never ends) are common in a state machine; a
  // short timeout keeps each of them from costing tens of seconds.
  timeoutMS: 3_000,
  timeoutFactor: 1.25,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 75, break: null },
  // The conformance tests find ../shared beside the repository by a path relative to their own
  // file; a sandbox two levels under the repository root keeps that path valid. The root
  // .gitignore already ignores .stryker-tmp/.
  tempDirName: '../../.stryker-tmp',
  // Stryker rewrites tsconfig.json's `extends` for a sandbox two levels under the package; ours
  // sits as deep as the package itself, where the original path already resolves, so the
  // rewrite is turned off by pointing it at a file that does not exist.
  tsconfigFile: 'tsconfig.stryker-no-rewrite.json',
  cleanTempDir: 'always',
};
