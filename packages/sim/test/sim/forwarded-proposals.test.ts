/**
 * Proposals on followers under faults: clients send writes to any member (most reach a
 * follower, which forwards them), while the schedule crashes nodes, partitions them, depose
 * leaders and loses and duplicates messages. Every command is unique; each member counts how
 * often it applies each one (the counts ride in its snapshots), so a forwarded command that
 * applies twice anywhere fails the run, as does any linearizability violation: a write
 * reported failed that took effect would show in a later read.
 *
 * Fixed seeds plus a few fresh ones per run (printed on failure).
 */
import { describe, expect, it } from 'vitest';
import type { Entry } from '@pontoon/raft';
import { KvStateMachine, formatSchedule, kvSimulation, scheduleOf, simulate } from '@pontoon/sim';
import type { FaultKind, KvInput, KvOutput, KvState, SimulationConfig } from '@pontoon/sim';

/** The KV machine, counting how often each command was applied (counts kept in snapshots). */
class CountingKv extends KvStateMachine {
  private counts = new Map<string, number>();
  constructor(
    private readonly nodeId: number,
    private readonly duplicates: string[],
  ) {
    super();
  }

  override apply(entry: Readonly<Entry>): ReturnType<KvStateMachine['apply']> {
    const key = new TextDecoder('latin1').decode(entry.data);
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n > 1) this.duplicates.push(`n${this.nodeId} applied ${JSON.stringify(key)} ${n} times (the last at index ${entry.index})`);
    return super.apply(entry);
  }

  override snapshot(): Uint8Array {
    const inner = new TextDecoder().decode(super.snapshot());
    const counts = [...this.counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new TextEncoder().encode(JSON.stringify([inner, counts]));
  }

  override restore(bytes: Uint8Array): void {
    const [inner, counts] = JSON.parse(new TextDecoder().decode(bytes)) as [string, Array<[string, number]>];
    super.restore(new TextEncoder().encode(inner));
    this.counts = new Map(counts);
  }
}

const FAULTS: readonly FaultKind[] = ['crash', 'partition', 'lossBurst', 'deposedLeader', 'lateDuplicates', 'pause'];

function config(duplicates: string[]): SimulationConfig<KvStateMachine, KvInput, KvOutput, KvState> {
  const base = kvSimulation({ nodes: 3, writes: 40, windowMs: 1000, maxFaults: 5, snapshotEvery: 15, faultKinds: FAULTS });
  return {
    ...base,
    stateMachine: (id) => new CountingKv(id, duplicates),
    // Loss and duplication all along, on top of the schedule's bursts.
    network: { lossRate: 0.02, duplicateRate: 0.05 },
  };
}

async function run(seed: number, forwards: { count: number }): Promise<void> {
  const duplicates: string[] = [];
  const c = config(duplicates);
  const result = await simulate(c, seed, scheduleOf(c, seed), {
    // The trace sums the messages sent between events ("messages: App x4, Prop x2, ...").
    trace: (line) => {
      const m = /\bProp x(\d+)/.exec(line);
      if (m !== null) forwards.count += Number(m[1]);
    },
  });
  const violations = result.violations.map((v) => `[${v.property} at ${v.time} ms] ${v.message}`).join('\n');
  expect(result.ok, `seed ${seed} failed:\n${violations}\nschedule:\n${formatSchedule(result.schedule)}`).toBe(true);
  expect(duplicates, `seed ${seed}: commands applied more than once`).toEqual([]);
}

describe('proposals forwarded by followers, under leader changes, loss and duplication', () => {
  it('30 fixed seeds: every command applied at most once, the history linearizable', async () => {
    const forwards = { count: 0 };
    for (let seed = 60_000; seed < 60_030; seed++) await run(seed, forwards);
    // The runs did forward: followers sent MsgProps to leaders.
    expect(forwards.count).toBeGreaterThan(100);
  });

  it('3 fresh seeds', async () => {
    const forwards = { count: 0 };
    const first = 1 + Math.floor(Math.random() * 1_000_000_000);
    for (let seed = first; seed < first + 3; seed++) await run(seed, forwards);
  });
});
