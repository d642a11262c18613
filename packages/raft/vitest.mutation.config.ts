/**
 * Vitest configuration for mutation runs (`pnpm --filter @pontoon/raft mutate`, see MUTATION.md):
 * the package's RawNode-level tests, resolved like the root config, with the safety simulation on
 * a smaller fixed schedule count. Every surviving mutant runs every test that covers it, so the
 * cost of a run is roughly (survivors x covering tests); these choices keep it within budget:
 *
 * - test/node/** (the RaftNode driver over virtual time) is left out: it reaches the core only
 *   through RawNode, which the other tests drive directly and deterministically.
 * - test/safety.property.test.ts is replaced by test/safety-simulation.mutation-suite.ts: the same
 *   simulation over the real core, without the planted-bug checks of the checker itself, on
 *   30 + 10 schedules instead of CI's 400 + 250 (PONTOON_SAFETY_RUNS, PONTOON_SAFETY_LONG_RUNS).
 * - The simulation lives in @pontoon/sim/rawnode, which imports `@pontoon/raft/core`: through the
 *   workspace link that is the unmutated package, so the aliases below point every import of
 *   `@pontoon/raft` (this config's copy sits in Stryker's sandbox) at the sandbox's sources.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const own = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export default defineConfig({
  resolve: {
    conditions: ['@pontoon/source'],
    alias: [
      { find: /^@pontoon\/raft$/, replacement: own('./src/index.ts') },
      { find: /^@pontoon\/raft\/core$/, replacement: own('./src/core.ts') },
      { find: /^@pontoon\/raft\/testing$/, replacement: own('./src/testing.ts') },
    ],
  },
  ssr: { resolve: { conditions: ['@pontoon/source'] } },
  test: {
    include: ['test/**/*.test.ts', 'test/safety-simulation.mutation-suite.ts'],
    exclude: ['test/node/**', 'test/safety.property.test.ts', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
