import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogStore, MemoryNetwork, MessageType, RaftNode } from '../../src/index.js';
import type { HardState, LogWrite, Message } from '../../src/index.js';
import { KvStateMachine, TestCluster, fastTiming, set } from './support.js';
import { VirtualClock } from './virtual-clock.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

describe('RaftNode: durability ordering', () => {
  it('acknowledges appends only once they are durable; the leader replicates while its own write is in flight', async () => {
    cluster = new TestCluster([1, 2, 3]);
    for (const id of [1, 2, 3]) cluster.stores.set(id, new MemoryLogStore({ writeLatencyMs: () => 2 + Math.random() * 15 }));
    cluster.startAll();
    const leader = await cluster.leader();
    const violations: string[] = [];
    let replicatedBeforeDurable = 0;
    cluster.network.setFilter((m: Message) => {
      if (m.type === MessageType.MsgAppResp && !m.reject && m.from !== leader.id) {
        const durable = cluster!.stores.get(m.from)!.lastIndex();
        if (durable < m.index) violations.push(`node ${m.from} acked ${m.index} with only ${durable} durable`);
      }
      if (m.type === MessageType.MsgApp && m.from === leader.id && m.entries.length > 0) {
        const last = m.entries[m.entries.length - 1]!.index;
        if (cluster!.stores.get(leader.id)!.lastIndex() < last) replicatedBeforeDurable++;
      }
      return true;
    });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => leader.propose(set(`k${i % 7}`, String(i)))));
    expect(results).toHaveLength(40);
    for (let i = 0; i < 20; i++) await leader.propose(set('seq', String(i)));
    expect(violations).toEqual([]);
    expect(replicatedBeforeDurable).toBeGreaterThan(0);
  });

  it('marks commit-only writes sync: false and every write carrying entries, a snapshot, a term or a vote sync: true', async () => {
    cluster = new TestCluster([1, 2, 3]);
    const writes = new Map<number, Array<{ sync: boolean | undefined; entries: number; snapshot: boolean; hs: HardState | undefined }>>();
    for (const id of [1, 2, 3]) {
      const store = new MemoryLogStore();
      const log: Array<{ sync: boolean | undefined; entries: number; snapshot: boolean; hs: HardState | undefined }> = [];
      writes.set(id, log);
      const append = store.append.bind(store);
      store.append = (w: LogWrite) => {
        log.push({ sync: w.sync, entries: w.entries.length, snapshot: w.snapshot !== undefined, hs: w.hardState && { ...w.hardState } });
        return append(w);
      };
      cluster.stores.set(id, store);
    }
    cluster.startAll();
    const leader = await cluster.leader();
    for (let i = 0; i < 10; i++) await leader.propose(set('k', String(i)));
    await leader.transferLeadership(leader.id === 1 ? 2 : 1);
    const next = await cluster.leader();
    for (let i = 0; i < 5; i++) await next.propose(set('k', String(i)));

    let commitOnly = 0;
    for (const log of writes.values()) {
      let term = 0;
      let vote = 0;
      for (const w of log) {
        const termOrVote = w.hs !== undefined && (w.hs.term !== term || w.hs.vote !== vote);
        const mustSync = w.entries > 0 || w.snapshot || termOrVote;
        expect(w.sync, JSON.stringify(w)).toBe(mustSync);
        if (!mustSync) commitOnly++;
        if (w.hs !== undefined) ({ term, vote } = w.hs);
      }
    }
    expect(commitOnly).toBeGreaterThan(0);
  });

  it('completes MemoryLogStore appends in call order whatever their latencies', async () => {
    const latencies = [30, 1, 15, 0, 5];
    let k = 0;
    const store = new MemoryLogStore({ writeLatencyMs: () => latencies[k++]! });
    const done: number[] = [];
    const writes = latencies.map((_, i) =>
      store.append({ entries: [{ index: i + 1, term: 1, type: 0, data: new Uint8Array([i]) }] }).then(() => {
        done.push(i);
        expect(store.lastIndex()).toBe(i + 1);
      }),
    );
    await Promise.all(writes);
    expect(done).toEqual([0, 1, 2, 3, 4]);
    expect(store.appendCount).toBe(5);
  });
});

describe('RaftNode: injectable clock', () => {
  it('runs a cluster in virtual time and leaves no timer behind after stop()', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, latencyMs: 1 });
    const members = [1, 2, 3].map((id) => ({ id, address: `v${id}` }));
    const nodes = members.map(
      ({ id }) =>
        new RaftNode({
          id,
          logStore: new MemoryLogStore({ clock, writeLatencyMs: 2 }),
          transport: network.transport(id),
          stateMachine: new KvStateMachine(),
          initialMembers: members,
          clock,
          ...fastTiming,
        }),
    );
    await clock.advance(500);
    const leaders = nodes.filter((n) => n.isLeader);
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    let result: unknown = 'pending';
    void leader.propose(set('a', 'b')).then((r) => (result = r));
    await clock.advance(50);
    expect(result).toBeNull();
    const stopping = Promise.all(nodes.map((n) => n.stop()));
    await clock.advance(100);
    await stopping;
    network.clear();
    expect(clock.pending()).toBe(0);
  });
});
