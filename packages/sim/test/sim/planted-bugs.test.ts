/**
 * The checkers bite: with a bug planted in the disk, the state machine or the clients, the
 * simulator finds a failing seed within a few runs and reports the right kind of violation.
 */
import { describe, expect, it } from 'vitest';
import { checkLinearizabilitySync, explore, kvModel, kvSimulation } from '@pontoon/sim';
import type { Failure, KvInput, KvOutput, KvSimulationOptions, Operation } from '@pontoon/sim';

const BASE: KvSimulationOptions = { writes: 60, windowMs: 1000 };

async function firstFailure(config: ReturnType<typeof kvSimulation>, runs: number): Promise<Failure<KvInput, KvOutput>> {
  const report = await explore(config, { runs, seed: 1, stopOnFailure: true, shrink: false });
  expect(report.failures.length, `no failure in ${report.runs} runs`).toBe(1);
  return report.failures[0]!;
}

describe('planted bugs are caught', () => {
  it('a disk that acknowledges writes before they are durable', async () => {
    const config = kvSimulation({ ...BASE, disk: { lyingFsync: true, tearOnCrash: false } });
    config.faults = { ...config.faults, kinds: ['powerLoss', 'crash', 'partition'] };
    const f = await firstFailure(config, 40);
    expect(f.result.violations.length).toBeGreaterThan(0);
  });

  it('a state machine that applies entries out of order', async () => {
    const f = await firstFailure(kvSimulation({ ...BASE, bugs: { applyOutOfOrder: true } }), 20);
    expect(f.result.violations.map((v) => v.property)).toContain('linearizability');
  });

  it('clients that read a replica without ReadIndex (stale reads)', async () => {
    const config = kvSimulation({ ...BASE, staleReads: true });
    config.faults = { ...config.faults, kinds: ['partition', 'pause'] };
    const f = await firstFailure(config, 30);
    expect(f.result.violations.map((v) => v.property)).toContain('linearizability');
  });

  it('reads that are never answered: the liveness check asks for a read after healing', async () => {
    // Reads that hang leave nothing in the history for the linearizability checker to see.
    const f = await firstFailure(kvSimulation({ ...BASE, hangingReads: true }), 5);
    expect(f.result.violations.map((v) => v.message).join('\n')).toMatch(/no read answered within \d+ ms after a write committed/);
  });

  it('a client history with a stale read is not linearizable', () => {
    const history: Operation<KvInput, KvOutput>[] = [
      { clientId: 0, input: { op: 'put', key: 'x', value: '1' }, call: 0, return: 10, outcome: 'ok', output: { op: 'put' } },
      { clientId: 1, input: { op: 'get', key: 'x' }, call: 20, return: 30, outcome: 'ok', output: { op: 'get', value: '' } },
    ];
    expect(checkLinearizabilitySync(kvModel, history, { timeoutMs: 5000 }).verdict).toBe('illegal');
  });
});
