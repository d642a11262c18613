/**
 * A regression the simulator found in RaftNode: a node saved a snapshot at index i as soon as it
 * applied i, while the write of the hard state with commit >= i was still in flight. A store that
 * makes the snapshot durable first (as the simulated disk does) then left, after a crash, a
 * snapshot above the durable commit index, and the restarted node threw in RawNode's constructor
 * ("state.commit c is out of range [first - 1, last]"). RaftNode now snapshots only at or below
 * the durable commit index. Seed 35 of this configuration hit it, shrunk to two power losses:
 * { at: 163, downMs: 271 } and { at: 1000, downMs: 17 }.
 */
import { describe, expect, it } from 'vitest';
import { explore, formatFailure, kvSimulation } from '@pontoon/sim';

describe('RaftNode restart after a snapshot', () => {
  it('restarts after crashes and power losses with snapshots every 5 entries', async () => {
    const config = kvSimulation({ writes: 100, windowMs: 2000, snapshotEvery: 5 });
    config.faults = { ...config.faults, kinds: ['crash', 'powerLoss'] };
    delete config.model;
    const report = await explore(config, { runs: 60, seed: 1, stopOnFailure: true, shrink: false });
    expect(report.failures.map(formatFailure)).toEqual([]);
  });
});
