/**
 * Lease reads across a partition of the leader, found by the simulator (`pnpm sim --nodes 5
 * --lease`, seed 423060, shrunk to these two faults): the leader is cut off just after a quorum
 * check, so CheckQuorum keeps it leading for almost two election timeouts, while the others
 * elect a new leader after one and take writes. With etcd's lease rule (CheckQuorum alone) the
 * old leader went on answering lease reads from its stale state, and the history was not
 * linearizable. The core's lease now runs from heartbeat rounds a quorum acknowledged
 * (packages/raft/src/leader-lease.ts); this fails on the core before that change.
 */
import { describe, expect, it } from 'vitest';
import { kvSimulation, replay } from '@pontoon/sim';

describe('lease reads when the leader is partitioned', () => {
  it('serve no stale read while a new leader takes writes (seed 423060)', async () => {
    const config = kvSimulation({ nodes: 5, writes: 200, clients: 5, leaseReads: true });
    const r = await replay(config, 423060, {
      faults: [
        { kind: 'lossBurst', at: 123, durationMs: 472, loss: 0.41, duplicate: 0.23 },
        { kind: 'partition', at: 842, durationMs: 239, nodes: ['leader'] },
      ],
    });
    const text = r.trace.join('\n');
    // The shape that matters: a second leader in a new term while the old one still leads.
    expect(text).toMatch(/fault: partition \{n\d\} from the rest/);
    expect(r.violations.map((v) => `${v.property}: ${v.message}`)).toEqual([]);
    expect(r.ok).toBe(true);
  });
});
