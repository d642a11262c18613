import { describe, expect, it } from 'vitest';
import { runLoad } from '../load.js';
import type { LoadRequest, LoadRun } from '../load.js';

const request = (levels: LoadRequest['levels'], runs = 1): LoadRequest => ({ type: 'run', levels, durationMs: 60, warmupMs: 10, runs });

describe('runLoad', () => {
  it('keeps exactly inFlight writes outstanding and records one latency per acknowledged write', async () => {
    let outstanding = 0;
    let most = 0;
    const runs: LoadRun[] = [];
    await runLoad(
      request([{ payloadBytes: 128, inFlight: 8 }]),
      async (_worker, value) => {
        expect(value.length).toBe(128);
        outstanding++;
        most = Math.max(most, outstanding);
        await new Promise((r) => setTimeout(r, 1));
        outstanding--;
      },
      async () => {},
      (run) => runs.push(run),
    );
    expect(most).toBe(8);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.commits).toBeGreaterThan(0);
    expect(runs[0]!.latenciesMs).toHaveLength(runs[0]!.commits);
    expect(runs[0]!.errors).toBe(0);
  });

  it('runs the hook before each level and each level `runs` times, in order', async () => {
    const events: string[] = [];
    await runLoad(
      request([{ payloadBytes: 8, inFlight: 1 }, { payloadBytes: 16, inFlight: 2 }], 2),
      async () => {},
      async () => {
        events.push('before');
      },
      (run) => events.push(`${run.payloadBytes}x${run.inFlight}`),
    );
    expect(events).toEqual(['before', '8x1', '8x1', 'before', '16x2', '16x2']);
  });

  it('counts failed writes apart and stops after a run in which nothing was acknowledged', async () => {
    const runs: LoadRun[] = [];
    await runLoad(
      request([{ payloadBytes: 8, inFlight: 4 }, { payloadBytes: 8, inFlight: 8 }]),
      async () => {
        throw new Error('not the leader');
      },
      async () => {},
      (run) => runs.push(run),
    );
    expect(runs).toHaveLength(1);
    expect(runs[0]!.commits).toBe(0);
    expect(runs[0]!.errors).toBeGreaterThan(0);
    expect(runs[0]!.firstError).toBe('not the leader');
    expect(runs[0]!.latenciesMs).toHaveLength(0);
  });
});
