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
    // The shape that matters: the old leader is cut off while it leads; another node leads a
    // newer term and applies entries before the old one steps down.
    const lines = r.trace;
    const cut = lines.findIndex((l) => /fault: partition \{n\d+\} from the rest/.test(l));
    expect(cut, 'the leader was partitioned').toBeGreaterThan(0);
    const old = /fault: partition \{n(\d+)\}/.exec(lines[cut]!)![1]!;
    const oldTerm = Math.max(
      ...lines.slice(0, cut).flatMap((l) => {
        const m = new RegExp(`\\bn${old} is leader in term (\\d+)`).exec(l);
        return m === null ? [] : [Number(m[1])];
      }),
    );
    expect(oldTerm, `n${old} led a term before the cut`).toBeGreaterThan(0);
    const after = lines.slice(cut + 1);
    const stepDown = after.findIndex((l) => new RegExp(`\\bn${old} is (follower|preCandidate|candidate) in term`).test(l));
    expect(stepDown, `n${old} stepped down eventually`).toBeGreaterThan(0);
    const whileOldLeads = after.slice(0, stepDown);
    const second = whileOldLeads.map((l) => /\bn(\d+) is leader in term (\d+)/.exec(l)).find((m) => m !== null && m[1] !== old);
    expect(second, `a second leader while n${old} still leads term ${oldTerm}`).toBeDefined();
    expect(Number(second![2])).toBeGreaterThan(oldTerm);
    const newLeader = second![1]!;
    expect(
      whileOldLeads.some((l) => new RegExp(`\\bn${newLeader} applied ind`).test(l)),
      `n${newLeader} applied entries of its term before n${old} stepped down`,
    ).toBe(true);
    expect(r.violations.map((v) => `${v.property}: ${v.message}`)).toEqual([]);
    expect(r.ok).toBe(true);
  });
});
