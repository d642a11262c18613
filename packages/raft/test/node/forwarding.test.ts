import { afterEach, describe, expect, it } from 'vitest';
import {
  MessageType,
  NotLeaderError,
  ProposalDroppedError,
  ProposalOutcomeUnknownError,
  TimeoutError,
} from '../../src/index.js';
import type { Entry, Message, StateMachine } from '../../src/index.js';
import { TestCluster, set, waitFor } from './support.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

/** Every command applied on each node, as text, to count copies. */
function appliedCommands(c: TestCluster): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [id, sm] of c.sms) out.set(id, [...sm.data.entries()].map(([k, v]) => `${k}=${v}`));
  return out;
}

describe('RaftNode: proposals on any member', () => {
  it('a follower forwards to the leader and settles with the result once it applies the entry', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    const follower = cluster.running().find((n) => n !== leader)!;
    expect(await follower.propose(set('k', 'a'))).toBeNull();
    // Settled on the follower only once it applied the entry itself.
    expect(cluster.sms.get(follower.id)!.data.get('k')).toBe('a');
    expect(await follower.propose(set('k', 'b'))).toBe('a');
    expect(await leader.propose(set('k', 'c'))).toBe('b');
    await waitFor(() => [...cluster!.sms.values()].every((sm) => sm.data.get('k') === 'c'), { what: 'replication' });
    // Each command applied once on every member, as the leader's own.
    for (const sm of cluster.sms.values()) expect(sm.appliedIndexes.length).toBe(3);
  });

  it('hands the state machine the command as proposed, also one that starts with the envelope byte', async () => {
    const seen = new Map<number, Uint8Array[]>();
    class BytesMachine implements StateMachine<number> {
      constructor(private readonly id: number) {}
      apply(e: Readonly<Entry>): number {
        const list = seen.get(this.id) ?? [];
        list.push(e.data.slice());
        seen.set(this.id, list);
        return e.data.length;
      }
      snapshot(): Uint8Array {
        return new Uint8Array(0);
      }
      restore(): void {}
    }
    cluster = new TestCluster([1, 2, 3]);
    // TestCluster's KV machine does not fit these bytes: build the nodes by hand over its network.
    const { MemoryLogStore, RaftNode } = await import('../../src/index.js');
    const nodes = [1, 2, 3].map(
      (id) =>
        new RaftNode({
          id,
          logStore: new MemoryLogStore(),
          transport: cluster!.network.transport(id),
          stateMachine: new BytesMachine(id),
          initialMembers: cluster!.members,
          tickMs: 5,
          electionTicks: 10,
        }),
    );
    try {
      const leader = await waitFor(() => nodes.find((n) => n.isLeader && nodes.every((m) => m.leaderId === n.id)), { what: 'leader' });
      const follower = nodes.find((n) => n !== leader)!;
      const marked = Uint8Array.from([0xc1, 0x01, 7, 7, 7]);
      const escapedLike = Uint8Array.from([0xc1, 0x00, 9]);
      expect(await leader.propose(marked)).toBe(5);
      expect(await follower.propose(marked)).toBe(5);
      expect(await follower.propose(escapedLike)).toBe(3);
      expect(await leader.propose(Uint8Array.from([1, 2]))).toBe(2);
      await waitFor(() => [1, 2, 3].every((id) => seen.get(id)?.length === 4), { what: 'applied everywhere' });
      for (const id of [1, 2, 3]) expect(seen.get(id)).toEqual([marked, marked, escapedLike, Uint8Array.from([1, 2])]);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });

  it('applies a duplicated forward once', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    const follower = cluster.running().find((n) => n !== leader)!;
    const captured: Message[] = [];
    cluster.network.setFilter((m) => {
      if (m.type === MessageType.MsgProp) captured.push(structuredClone(m));
      return true;
    });
    expect(await follower.propose(set('dup', '1'))).toBeNull();
    expect(captured).toHaveLength(1);
    // The network delivers the same MsgProp twice more.
    const leaderTransport = cluster.transports.get(leader.id)!;
    leaderTransport.deliver(captured[0]!);
    leaderTransport.deliver(structuredClone(captured[0]!));
    // A later write, to know the duplicates had their chance to be appended before it.
    expect(await leader.propose(set('after', '1'))).toBeNull();
    await waitFor(() => [...cluster!.sms.values()].every((sm) => sm.data.get('after') === '1'), { what: 'replication' });
    for (const sm of cluster.sms.values()) expect(sm.appliedIndexes.length).toBe(2);
  });

  it('a forward the leader never got: outcome unknown on timeout, never a failure', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    const follower = cluster.running().find((n) => n !== leader)!;
    cluster.network.setFilter((m) => m.type !== MessageType.MsgProp);
    const err = await follower.propose(set('lost', '1'), { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposalOutcomeUnknownError);
    expect((err as ProposalOutcomeUnknownError).index).toBe(0);
    expect((err as ProposalOutcomeUnknownError).reason).toBe('timeout');
    expect((err as ProposalOutcomeUnknownError).cause).toBeInstanceOf(TimeoutError);
  });

  it('a forward delayed past a leader change is dropped everywhere, and the proposer learns it for certain', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    const [follower, other] = cluster.running().filter((n) => n !== leader);
    const held: Message[] = [];
    cluster.network.setFilter((m) => {
      if (m.type !== MessageType.MsgProp) return true;
      held.push(structuredClone(m));
      return false;
    });
    const outcome = follower!.propose(set('late', '1'), { timeoutMs: 20_000 }).catch((e: unknown) => e);
    await waitFor(() => held.length === 1, { what: 'the forward' });
    // Leadership moves on; then the old MsgProp reaches the new leader.
    await leader.transferLeadership(other!.id);
    await cluster.leader();
    cluster.network.setFilter(undefined);
    cluster.transports.get(other!.id)!.deliver(held[0]!);
    // The new leader's own entries (its term's empty entry, a write) apply on the follower.
    expect(await other!.propose(set('next', '1'))).toBeNull();
    const err = await outcome;
    expect(err).toBeInstanceOf(ProposalDroppedError);
    await waitFor(() => [...cluster!.sms.values()].every((sm) => sm.data.get('next') === '1'), { what: 'replication' });
    for (const sm of cluster.sms.values()) expect(sm.data.has('late')).toBe(false);
  });

  it('with no leader known, rejects at once with NotLeaderError', async () => {
    cluster = new TestCluster([1, 2, 3]);
    const lonely = cluster.start(1);
    const err = await lonely.propose(set('x', '1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).leaderId).toBeUndefined();
  });

  it('barrier() on a follower: afterwards it has applied every write acknowledged before', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    const follower = cluster.running().find((n) => n !== leader)!;
    // Hold the follower's appends so that it lags behind the leader's commit.
    cluster.network.setFilter((m) => !(m.to === follower.id && m.type === MessageType.MsgApp));
    const others = cluster.running().filter((n) => n !== follower);
    expect(await leader.propose(set('b', '1'))).toBeNull();
    await waitFor(() => others.every((n) => cluster!.sms.get(n.id)!.data.get('b') === '1'), { what: 'majority applied' });
    expect(cluster.sms.get(follower.id)!.data.get('b')).toBeUndefined();
    const barrier = follower.barrier();
    cluster.network.setFilter(undefined);
    await barrier;
    expect(cluster.sms.get(follower.id)!.data.get('b')).toBe('1');
    expect(appliedCommands(cluster).get(follower.id)).toContain('b=1');
  });

  it('waitForApplied(index) resolves once the index is applied here; times out otherwise', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    const follower = cluster.running().find((n) => n !== leader)!;
    await leader.propose(set('w', '1'));
    const index = leader.status().appliedIndex;
    await follower.waitForApplied(index);
    expect(follower.status().appliedIndex).toBeGreaterThanOrEqual(index);
    expect(cluster.sms.get(follower.id)!.data.get('w')).toBe('1');
    const err = await follower.waitForApplied(index + 1000, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
  });
});
