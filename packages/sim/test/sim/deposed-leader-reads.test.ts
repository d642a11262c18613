/**
 * A fault shape the random schedules rarely draw: in a 5-node cluster the leader is cut off with
 * one follower, and its clock runs slow, so CheckQuorum deposes it late. The majority elects a
 * new leader and takes writes; clients still talking to the old one ask it for reads. A
 * ReadIndex that counted the one follower's heartbeat ack as a quorum would answer them from a
 * stale state: with that check broken by hand in the core (raft.ts, MsgHeartbeatResp), 7 of
 * these 18 runs fail linearizability. Mutation testing found that no test covered it (see
 * packages/raft/MUTATION.md); this is the RaftNode-level, end-to-end version of that test.
 */
import { describe, expect, it } from 'vitest';
import { kvSimulation, simulate } from '@pontoon/sim';
import type { FaultSchedule } from '@pontoon/sim';

describe('ReadIndex on a deposed leader in a minority', () => {
  it('serves no stale read while the majority moves on', async () => {
    const config = kvSimulation({ writes: 60, windowMs: 1600, nodes: 5 });
    const verdicts: string[] = [];
    for (const partner of [1, 2, 3]) {
      const schedule: FaultSchedule = {
        faults: [
          { kind: 'partition', at: 300, durationMs: 1200, nodes: ['leader', partner] },
          { kind: 'clockSkew', at: 300, durationMs: 1200, node: 'leader', rate: 0.2 },
        ],
      };
      for (let seed = 1; seed <= 6; seed++) {
        const r = await simulate(config, seed, schedule);
        verdicts.push(r.ok ? 'ok' : `partner ${partner}, seed ${seed}: ${r.violations.map((v) => `${v.property}: ${v.message}`).join('; ')}`);
      }
    }
    expect(verdicts.filter((v) => v !== 'ok')).toEqual([]);
  });
});
