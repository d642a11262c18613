/**
 * A run whose linearizability check spends its step budget was not shown linearizable: it fails,
 * and explore() counts it both as inconclusive and as a failure.
 */
import { describe, expect, it } from 'vitest';
import { explore, kvSimulation, simulate } from '@pontoon/sim';

describe('an inconclusive linearizability check', () => {
  const config = kvSimulation({ nodes: 3, writes: 20, windowMs: 500, maxFaults: 0, checkMaxSteps: 5 });

  it('fails the run, saying the budget ran out', async () => {
    const r = await simulate(config, 7, { faults: [] });
    expect(r.linearizability).toBe('unknown');
    expect(r.stats.checkSteps).toBe(5);
    expect(r.ok).toBe(false);
    expect(r.violations.map((v) => v.property)).toEqual(['linearizability']);
    expect(r.violations[0]!.message).toMatch(/inconclusive: .* budget of 5 search steps/);
  });

  it('is counted by explore() as inconclusive and as a failure', async () => {
    const report = await explore(config, { runs: 2, seed: 7, shrink: false });
    expect(report.inconclusive).toBe(2);
    expect(report.failures.length).toBe(2);
    expect(report.passed).toBe(0);
  });

  it('with the default budget the same runs are checked to the end', async () => {
    const r = await simulate(kvSimulation({ nodes: 3, writes: 20, windowMs: 500, maxFaults: 0 }), 7, { faults: [] });
    expect(r.linearizability).toBe('ok');
    expect(r.ok).toBe(true);
  });
});
