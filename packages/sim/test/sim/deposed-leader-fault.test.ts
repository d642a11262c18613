/**
 * The `deposedLeader` fault kind: what it does to a cluster, and how the arbitraries draw it.
 * (deposed-leader-reads.test.ts hand-builds the same shape from a partition and a clock skew to
 * check ReadIndex; this kind lets random schedules draw it.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_FAULT_KINDS, LEASE_CLOCK_DRIFT, faultOptionsOf, faultScheduleArbitrary, kvSimulation, replay } from '@pontoon/sim';
import type { Fault } from '@pontoon/sim';

describe('deposedLeader fault', () => {
  it('cuts the leader off with a minority and slows its clock; the majority elects another, the old one steps down', async () => {
    const config = kvSimulation({ writes: 40, windowMs: 1200, nodes: 5 });
    const r = await replay(config, 3, { faults: [{ kind: 'deposedLeader', at: 300, durationMs: 600, partners: 1, rate: 0.2 }] });
    const text = r.trace.join('\n');
    const cut = /\[ *(\d+) ms\] fault: cut off leader n(\d) with \{n(\d)\}, its clock at x0\.20/.exec(text);
    expect(cut, text).not.toBeNull();
    const [, atMs, oldLeader, partner] = cut!.map(Number) as [number, number, number, number];
    expect(atMs).toBe(300);
    expect(partner).not.toBe(oldLeader);
    // While the fault lasts, a node of the majority side leads a later term...
    const leadersDuring = [...text.matchAll(/\[ *(\d+) ms\] n(\d) is leader in term (\d+)/g)]
      .map((m) => ({ at: Number(m[1]), id: Number(m[2]) }))
      .filter((l) => l.at > 300 && l.at < 900);
    expect(leadersDuring.length, text).toBeGreaterThan(0);
    for (const l of leadersDuring) expect([oldLeader, partner]).not.toContain(l.id);
    // ...and the old leader, its clock slowed, steps down only after that.
    const firstNew = leadersDuring[0]!.at;
    const stepDown = new RegExp(`\\[ *(\\d+) ms\\] n${oldLeader} is (follower|pre-candidate|candidate) in term`).exec(text.slice(text.indexOf('fault: cut off')));
    expect(stepDown, text).not.toBeNull();
    expect(Number(stepDown![1])).toBeGreaterThan(firstNew);
    expect(r.ok, r.violations.map((v) => v.message).join('\n')).toBe(true);
  });

  it('is drawn with at least one partner where a minority allows it, never a majority, and for at least two election timeouts', () => {
    for (const nodes of [3, 5, 7]) {
      const arb = faultScheduleArbitrary(nodes, { windowMs: 2000, electionTimeoutMs: 100, kinds: ['deposedLeader'] });
      const drawn: Fault[] = fc.sample(arb, { seed: 7, numRuns: 200 }).flatMap((s) => s.faults);
      expect(drawn.length).toBeGreaterThan(100);
      const maxPartners = Math.floor((nodes - 1) / 2) - 1;
      for (const f of drawn) {
        if (f.kind !== 'deposedLeader') throw new Error(`drew ${f.kind}`);
        expect((1 + f.partners) * 2).toBeLessThan(nodes);
        expect(f.partners).toBeGreaterThanOrEqual(Math.min(1, maxPartners));
        expect(f.durationMs).toBeGreaterThanOrEqual(200);
        expect(f.rate).toBeGreaterThan(0);
        expect(f.rate).toBeLessThan(1);
      }
      if (maxPartners >= 1) expect(new Set(drawn.map((f) => (f.kind === 'deposedLeader' ? f.partners : -1))).size).toBe(maxPartners);
    }
  });

  it('is drawn for lease reads too, with a clock slowed within LEASE_CLOCK_DRIFT (beyond it stale lease reads are legitimate)', () => {
    const lease = faultOptionsOf(kvSimulation({ nodes: 5, leaseReads: true }));
    expect(lease.kinds).toBeUndefined();
    expect(lease.maxClockDrift).toBe(LEASE_CLOCK_DRIFT);
    const drawn = fc.sample(faultScheduleArbitrary(5, { ...lease, kinds: ['deposedLeader', 'clockSkew'] }), { seed: 11, numRuns: 200 }).flatMap((s) => s.faults);
    expect(drawn.length).toBeGreaterThan(100);
    for (const f of drawn) {
      if (f.kind === 'deposedLeader') {
        expect(f.rate).toBeGreaterThanOrEqual(1 - LEASE_CLOCK_DRIFT);
        expect(f.rate).toBeLessThan(1);
      } else if (f.kind === 'clockSkew') {
        expect(Math.abs(f.rate - 1)).toBeLessThanOrEqual(LEASE_CLOCK_DRIFT + 1e-9);
      } else {
        throw new Error(`drew ${f.kind}`);
      }
    }
    const readIndex = faultOptionsOf(kvSimulation({ nodes: 5 }));
    // ReadIndex configurations draw from every kind, clocks as far off as x0.1 and x2.
    expect(readIndex.kinds).toBeUndefined();
    expect(readIndex.maxClockDrift).toBeUndefined();
    expect(ALL_FAULT_KINDS).toContain('deposedLeader');
    expect(readIndex.electionTimeoutMs).toBe(100);
  });
});
