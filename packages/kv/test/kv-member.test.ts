import { afterEach, describe, expect, it } from 'vitest';
import {
  CompactedError,
  InvalidRequestError,
  KeyNotProvidedError,
  LeaseNotFoundError,
  NoLeaderError,
} from '../src/errors.js';
import type { KvMember } from '../src/kv-member.js';
import { type TestCluster, startCluster } from './support/member-cluster.js';

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString());
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true, for at most `ms`. */
async function eventually(fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await fn()) return;
    await sleep(20);
  }
  throw new Error(`condition not met within ${ms} ms`);
}

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('KvMember: a 3-member cluster in-process', () => {
  it('takes writes on any member; linearizable reads see them everywhere, serializable ones on the writer', async () => {
    cluster = await startCluster();
    const leader = await cluster.leader();
    const [f1, f2] = cluster.followers() as [KvMember, KvMember];
    const r1 = await leader.put('a', '1');
    const r2 = await f1.put('b', '2');
    const r3 = await f2.put('c', '3', { prevKv: true });
    expect([r1.header.revision, r2.header.revision, r3.header.revision]).toEqual([2, 3, 4]);
    expect(r2.header.raftTerm).toBe(leader.raft.term);
    // A follower answers a write once it applied it itself: it reads its own write locally.
    expect(text((await f1.get('b', { serializable: true })).kvs[0]?.value)).toBe('2');
    // A linearizable read on another member sees every acknowledged write.
    const all = await f2.get('', { prefix: true });
    expect(all.kvs.map((kv) => text(kv.key))).toEqual(['a', 'b', 'c']);
    expect(all.header.revision).toBe(4);
    expect((await f1.get('c')).kvs[0]?.modRevision).toBe(4);

    // A txn with writes from a follower; its compare sees the store at the leader's apply.
    const cas = (expected: number) =>
      f1.txn({
        compare: [{ key: Buffer.from('a'), target: 'version', result: 'equal', version: expected }],
        success: [{ put: { key: Buffer.from('a'), value: Buffer.from('x') } }],
        failure: [{ range: { key: Buffer.from('a') } }],
      });
    expect((await cas(1)).succeeded).toBe(true);
    const lost = await cas(1);
    expect(lost.succeeded).toBe(false);
    expect(lost.header.revision).toBe(5);
    // A read-only txn is a read: no revision.
    const readOnly = await f2.txn({ compare: [], success: [{ range: { key: Buffer.from('a') } }], failure: [] });
    expect(readOnly.header.revision).toBe(5);

    const del = await f2.delete('b', { prevKv: true });
    expect(del.deleted).toBe(1);
    expect(text(del.prevKvs[0]?.value)).toBe('2');
    await f1.compact(5);
    for (const m of cluster.members.values()) {
      await expect(m.get('a', { revision: 3 })).rejects.toBeInstanceOf(CompactedError);
      expect((await m.get('', { prefix: true })).kvs.map((kv) => text(kv.key))).toEqual(['a', 'c']);
    }
  });

  it('answers bad input with a typed error and proposes nothing', async () => {
    cluster = await startCluster();
    const leader = await cluster.leader();
    const follower = cluster.followers()[0]!;
    await follower.put('k', 'v');
    const before = leader.raft.status().commitIndex;
    await expect(follower.put('', 'v')).rejects.toBeInstanceOf(KeyNotProvidedError);
    await expect(follower.get('k', { limit: 0.5 })).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(follower.get('k', { revision: 1.5 })).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(follower.leaseGrant(1.5)).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(follower.compact(0.5)).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(follower.put(42 as unknown as string, 'v')).rejects.toBeInstanceOf(InvalidRequestError);
    expect(leader.raft.status().commitIndex).toBe(before);
    expect((await follower.get('k')).header.revision).toBe(2);
  });

  it('answers "etcdserver: no leader" on a member cut off from the others, and serves serializable reads there', async () => {
    cluster = await startCluster();
    await cluster.leader();
    const follower = cluster.followers()[0]!;
    await follower.put('k', 'v');
    cluster.isolate(follower.id);
    await eventually(() => follower.raft.leaderId === undefined);
    const err = await follower.put('k', 'w', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoLeaderError);
    expect((err as NoLeaderError).message).toBe('etcdserver: no leader');
    await expect(follower.get('k', { timeoutMs: 300 })).rejects.toBeInstanceOf(NoLeaderError);
    expect(text((await follower.get('k', { serializable: true })).kvs[0]?.value)).toBe('v');
    cluster.heal();
    await follower.put('k', 'w');
    expect(text((await follower.get('k')).kvs[0]?.value)).toBe('w');
  });
});

describe('KvMember: leases', () => {
  it('grants with etcd\'s minimum TTL, lists and answers TimeToLive with keys from any member', async () => {
    cluster = await startCluster();
    await cluster.leader();
    const [f1, f2] = cluster.followers() as [KvMember, KvMember];
    const granted = await f1.leaseGrant(0, { id: 7n });
    // 1.5 election timeouts of 100 ms, rounded up to a second.
    expect(granted.ttl).toBe(1);
    await f1.put('held', 'x', { lease: 7n });
    const ttl = await f2.leaseTimeToLive(7n, { keys: true });
    expect(ttl.grantedTtl).toBe(1);
    expect(ttl.ttl).toBeGreaterThanOrEqual(0);
    expect(ttl.keys.map(text)).toEqual(['held']);
    for (const m of cluster.members.values()) {
      await eventually(async () => (await m.leases()).leases.some((l) => l.id === 7n));
    }
    expect((await f2.leaseTimeToLive(99n)).ttl).toBe(-1);
    await expect(f2.leaseKeepAliveOnce(99n)).rejects.toBeInstanceOf(LeaseNotFoundError);
    await expect(f2.leaseRevoke(99n)).rejects.toBeInstanceOf(LeaseNotFoundError);
    await f2.leaseRevoke(7n);
    expect((await f1.get('held')).kvs).toEqual([]);
  });

  it('lists leases as etcd does: on the leader soonest to expire first, elsewhere by id', async () => {
    cluster = await startCluster();
    const leader = await cluster.leader();
    // Granted long-lived first, so that id order and expiry order disagree.
    await leader.leaseGrant(600, { id: 1n });
    await leader.leaseGrant(60, { id: 2n });
    await leader.leaseGrant(300, { id: 3n });
    expect((await leader.leases()).leases.map((l) => l.id)).toEqual([2n, 3n, 1n]);
    const follower = cluster.followers()[0]!;
    await eventually(async () => (await follower.leases()).leases.length === 3);
    expect((await follower.leases()).leases.map((l) => l.id)).toEqual([1n, 2n, 3n]);
  });

  it('keeps a lease alive through a follower\'s keepalives, and the leader revokes it once they stop', async () => {
    cluster = await startCluster();
    await cluster.leader();
    const follower = cluster.followers()[0]!;
    const { id, ttl } = await follower.leaseGrant(1);
    await follower.put('alive', 'x', { lease: id });
    const until = Date.now() + 3 * ttl * 1000;
    while (Date.now() < until) {
      expect((await follower.leaseKeepAliveOnce(id)).ttl).toBe(ttl);
      await sleep(200);
    }
    // Three TTLs later, kept alive only through the follower: still there.
    expect((await follower.get('alive')).kvs).toHaveLength(1);
    await eventually(async () => (await follower.get('alive')).kvs.length === 0);
    expect((await follower.leaseTimeToLive(id)).ttl).toBe(-1);
    await expect(follower.leaseKeepAliveOnce(id)).rejects.toBeInstanceOf(LeaseNotFoundError);
  });

  it('never expires a lease on a member that is not the leader: a cut-off follower keeps it until the revoke reaches it', async () => {
    cluster = await startCluster();
    await cluster.leader();
    const follower = cluster.followers()[0]!;
    const { id } = await follower.leaseGrant(1);
    await follower.put('held', 'x', { lease: id });
    cluster.isolate(follower.id);
    const leader = await cluster.leader();
    await eventually(async () => (await leader.get('held')).kvs.length === 0);
    // Expired and revoked by the leader long ago; the follower alone decides nothing.
    await sleep(1500);
    expect((await follower.get('held', { serializable: true })).kvs).toHaveLength(1);
    expect((await follower.leases()).leases.map((l) => l.id)).toContain(id);
    cluster.heal();
    await eventually(async () => (await follower.get('held', { serializable: true })).kvs.length === 0);
  });

  it('extends every lease when a new leader takes over: a leader killed mid-lease does not expire it early', async () => {
    cluster = await startCluster();
    const old = await cluster.leader();
    const { id, ttl } = await old.leaseGrant(2);
    await old.put('held', 'x', { lease: id });
    const granted = performance.now();
    await sleep(1500);
    await old.close();
    const next = await cluster.leader();
    expect(next.id).not.toBe(old.id);
    // Past the lease's expiry as the old leader counted it: the new leader counts TTL (plus an
    // election timeout) again from its promotion, which came after the old leader died.
    const check = granted + ttl * 1000 + 300;
    await sleep(Math.max(0, check - performance.now()));
    const alive = await next.leaseTimeToLive(id, { keys: true });
    expect(alive.ttl).toBeGreaterThanOrEqual(0);
    expect(alive.keys.map(text)).toEqual(['held']);
    // With no keepalive it still expires, by the new leader.
    await eventually(async () => (await next.get('held')).kvs.length === 0);
  });

  it('a self-renewing lease outlives its TTL, and reports itself lost once revoked elsewhere', async () => {
    cluster = await startCluster();
    await cluster.leader();
    const [f1, f2] = cluster.followers() as [KvMember, KvMember];
    const lease = await f1.lease(1);
    await f1.put('session', 'x', { lease: lease.id });
    await sleep(2500);
    expect((await f2.get('session')).kvs).toHaveLength(1);
    await f2.leaseRevoke(lease.id);
    expect(await lease.lost).toBeInstanceOf(LeaseNotFoundError);
    expect((await f1.get('session')).kvs).toEqual([]);
    const other = await f2.lease(1);
    await other.revoke();
    expect((await f2.leaseTimeToLive(other.id)).ttl).toBe(-1);
  });
});

describe('KvMember: watch', () => {
  it('every member\'s watchers see the same events, in revision order, as that member applies them', async () => {
    cluster = await startCluster();
    await cluster.leader();
    const members = [...cluster.members.values()];
    const watchers = members.map((m) => m.watch('w/', { prefix: true, prevKv: true }));
    for (let i = 0; i < 6; i++) await members[i % 3]!.put(`w/${i % 2}`, `v${i}`);
    await members[1]!.delete('w/', { prefix: true });
    const expected = (await members[0]!.get('w/', { prefix: true })).header.revision;
    const seen = await Promise.all(
      watchers.map(async (w) => {
        const events: string[] = [];
        for await (const resp of w) {
          for (const e of resp.events) events.push(`${e.type} ${text(e.kv.key)} ${e.kv.modRevision} ${text(e.prevKv?.value) ?? '-'}`);
          if (resp.revision >= expected) break;
        }
        return events;
      }),
    );
    expect(seen[0]).toEqual([
      'put w/0 2 -',
      'put w/1 3 -',
      'put w/0 4 v0',
      'put w/1 5 v1',
      'put w/0 6 v2',
      'put w/1 7 v3',
      'delete w/0 8 v4',
      'delete w/1 8 v5',
    ]);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);

    // From a past revision; from a compacted one, cancelled with the compact revision.
    const replay = members[2]!.watch('w/0', { startRevision: 4 });
    for await (const resp of replay) {
      // A catch-up from history sends several revisions in one response, as etcd's does.
      expect(resp.events.map((e) => e.kv.modRevision)).toEqual([4, 6, 8]);
      break;
    }
    await members[0]!.compact(6);
    // A linearizable read there: member 3 has applied the compaction.
    await members[2]!.get('w/0');
    const compacted = members[2]!.watch('w/', { prefix: true, startRevision: 2 });
    const first = (await compacted[Symbol.asyncIterator]().next()).value as { canceled: boolean; compactRevision: number };
    expect(first.canceled).toBe(true);
    expect(first.compactRevision).toBe(6);
  });
});
