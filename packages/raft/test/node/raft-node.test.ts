import { afterEach, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/index.js';
import type { LogWrite } from '../../src/index.js';
import { TestCluster, set, waitFor } from './support.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

describe('RaftNode: a 3-node in-memory cluster', () => {
  it('elects a leader and replicates; propose resolves with the state machine result', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    expect(await leader.propose(set('a', '1'))).toBeNull();
    expect(await leader.propose(set('a', '2'))).toBe('1');
    await waitFor(() => [...cluster!.sms.values()].every((sm) => sm.data.get('a') === '2'), { what: 'replication' });
    const st = leader.status();
    expect(st.role).toBe('leader');
    expect(st.leaderId).toBe(leader.id);
    expect(st.appliedIndex).toBe(st.commitIndex);
    expect(Object.keys(st.progress).map(Number).sort()).toEqual([1, 2, 3]);
    // Plain data: a JSON round trip keeps every field.
    expect(JSON.parse(JSON.stringify(st))).toEqual(st);
    expect(st.membership.addresses).toEqual({ 1: 'mem://1', 2: 'mem://2', 3: 'mem://3' });
    expect(st.membership.voters.sort()).toEqual([1, 2, 3]);
    // Addresses from the bootstrap conf changes reached every transport.
    for (const [id, t] of cluster.transports) {
      expect([...t.peers.keys()].sort()).toEqual([1, 2, 3].filter((x) => x !== id));
    }
  });

  it('with disableProposalForwarding, rejects a proposal on a follower with NotLeaderError naming the leader', async () => {
    cluster = new TestCluster([1, 2, 3], { disableProposalForwarding: true }).startAll();
    const leader = await cluster.leader();
    const follower = cluster.running().find((n) => n !== leader)!;
    const err = await follower.propose(set('x', 'y')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).code).toBe('ERR_NOT_LEADER');
    expect((err as NotLeaderError).leaderId).toBe(leader.id);
    expect((err as NotLeaderError).leaderAddress).toBe(`mem://${leader.id}`);
  });

  it('puts the proposals of one event-loop turn into one log append', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    await leader.propose(set('warm', 'up'));
    const store = cluster.stores.get(leader.id)!;
    const writes: LogWrite[] = [];
    const append = store.append.bind(store);
    store.append = (w: LogWrite) => {
      writes.push(w);
      return append(w);
    };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => leader.propose(set(`k${i}`, 'v'))));
    expect(results).toEqual(Array(50).fill(null));
    const withEntries = writes.filter((w) => w.entries.length > 0);
    expect(withEntries).toHaveLength(1);
    expect(withEntries[0]!.entries).toHaveLength(50);
  });

  it('emits typed events for roles, leaders and applied entries', async () => {
    cluster = new TestCluster([1, 2, 3]);
    const node = cluster.start(1);
    const roles: string[] = [];
    const leaders: Array<number | undefined> = [];
    let applied = 0;
    node.on('roleChanged', (e) => roles.push(e.role));
    node.on('leaderChanged', (e) => leaders.push(e.leaderId));
    node.on('applied', (e) => {
      applied = e.index;
    });
    cluster.start(2);
    cluster.start(3);
    const leader = await cluster.leader();
    await waitFor(() => leaders.includes(leader.id), { what: 'leaderChanged' });
    if (leader === node) {
      expect(roles).toContain('leader');
      await node.propose(set('a', 'b'));
    }
    await waitFor(() => applied >= 3, { what: 'applied events' });
  });

  it('elects a new leader when the leader stops; acknowledged writes survive', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const first = await cluster.leader();
    const acked: string[] = [];
    for (let i = 0; i < 10; i++) {
      await first.propose(set(`k${i}`, `v${i}`));
      acked.push(`k${i}`);
    }
    await first.stop();
    const survivors = cluster.running();
    expect(survivors).toHaveLength(2);
    const second = await cluster.leader(survivors);
    expect(second.id).not.toBe(first.id);
    expect(await second.propose(set('after', 'crash'))).toBeNull();
    for (const n of survivors) {
      const sm = cluster.sms.get(n.id)!;
      await waitFor(() => sm.data.get('after') === 'crash', { what: `node ${n.id} catching up` });
      for (const k of acked) expect(sm.data.has(k)).toBe(true);
    }
  });

  it('read() on leader and followers sees every acknowledged write', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    for (let i = 0; i < 20; i++) {
      await leader.propose(set('counter', String(i)));
      // Right after the acknowledgement, from every node, in the same turn.
      const seen = await Promise.all(cluster.running().map((n) => n.read((sm) => sm.data.get('counter'))));
      expect(seen).toEqual(Array(3).fill(String(i)));
    }
    const follower = cluster.running().find((n) => n !== leader)!;
    // staleRead is local and immediate.
    expect(follower.staleRead((sm) => sm.data.size)).toBeGreaterThanOrEqual(0);
  });

  it('transfers leadership', async () => {
    cluster = new TestCluster([1, 2, 3]).startAll();
    const leader = await cluster.leader();
    await leader.propose(set('a', '1'));
    const target = cluster.running().find((n) => n !== leader)!;
    await waitFor(() => target.status().appliedIndex === leader.status().appliedIndex, { what: 'target caught up' });
    await leader.transferLeadership(target.id);
    expect(leader.isLeader).toBe(false);
    const now = await cluster.leader();
    expect(now.id).toBe(target.id);
    expect(await target.propose(set('a', '2'))).toBe('1');
    await expect(leader.transferLeadership(target.id)).rejects.toBeInstanceOf(NotLeaderError);
  });
});
