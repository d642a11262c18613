import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoltFile } from '../src/member/bolt-file.js';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import type { WatchRequest } from '../src/proto-types/etcdserverpb/WatchRequest.js';
import type { WatchResponse__Output } from '../src/proto-types/etcdserverpb/WatchResponse.js';
import { fragments } from '../src/server/watch-service.js';
import { type GrpcCluster, startGrpcCluster } from './support/grpc-cluster.js';
import { callUnary } from './support/grpc-call.js';

/** Raw @grpc/grpc-js calls against pontoon-kv's server on 3 in-process members. */

const { services } = loadEtcdProtos();
let cluster: GrpcCluster;
let clients: grpc.Client[];

beforeAll(async () => {
  cluster = await startGrpcCluster(3);
  await cluster.leader();
  clients = cluster.endpoints.map((e) => new grpc.Client(e, grpc.credentials.createInsecure()));
});

afterAll(async () => {
  for (const c of clients ?? []) c.close();
  await cluster?.close();
});

const b = (s: string): Buffer => Buffer.from(s);

async function ok<Res>(p: Promise<{ ok: true; response: Res } | { ok: false; code: number; details: string }>): Promise<Res> {
  const r = await p;
  if (!r.ok) throw new Error(`call failed: ${r.code} ${r.details}`);
  return r.response;
}

/** A watch stream whose responses are read one at a time, each bounded in time. */
function openWatch(client: grpc.Client) {
  const m = services.Watch.Watch;
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
  const queue: WatchResponse__Output[] = [];
  const waiters: ((r: WatchResponse__Output) => void)[] = [];
  call.on('data', (r: WatchResponse__Output) => {
    const w = waiters.shift();
    if (w !== undefined) w(r);
    else queue.push(r);
  });
  call.on('error', () => undefined);
  return {
    send: (req: WatchRequest) => call.write(req),
    next(ms = 5000): Promise<WatchResponse__Output> {
      const q = queue.shift();
      if (q !== undefined) return Promise.resolve(q);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no watch response within ${ms} ms`)), ms);
        waiters.push((r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
    },
    close: () => call.cancel(),
  };
}

describe('KV', () => {
  it('fills the header as etcd: cluster id, this member\'s id, revision, raft term', async () => {
    const put = await ok(callUnary(clients[1]!, services.KV.Put, { key: b('h'), value: b('1') }));
    const record = cluster.ids.members().find((m) => m.raftId === cluster.members[1]!.id)!;
    expect(put.header!.cluster_id).toBe(cluster.ids.clusterId.toString());
    expect(put.header!.member_id).toBe(record.id.toString());
    expect(Number(put.header!.raft_term)).toBe(cluster.members[1]!.raft.term);
    const got = await ok(callUnary(clients[2]!, services.KV.Range, { key: b('h') }));
    expect(got.header!.revision).toBe(put.header!.revision);
    expect(got.kvs.map((kv) => [kv.key.toString(), kv.value.toString(), kv.mod_revision, kv.version])).toEqual([
      ['h', '1', put.header!.revision, '1'],
    ]);
  });

  it('range options: prefix, limit with more and count, sort, keys-only, count-only, serializable', async () => {
    for (const k of ['r/c', 'r/a', 'r/b']) await ok(callUnary(clients[0]!, services.KV.Put, { key: b(k), value: b(`v-${k}`) }));
    const r = await ok(
      callUnary(clients[1]!, services.KV.Range, { key: b('r/'), range_end: b('r0'), limit: 2, sort_order: 'DESCEND', sort_target: 'KEY' }),
    );
    expect(r.kvs.map((kv) => kv.key.toString())).toEqual(['r/c', 'r/b']);
    expect(r.more).toBe(true);
    expect(r.count).toBe('3');
    const keys = await ok(callUnary(clients[2]!, services.KV.Range, { key: b('r/'), range_end: b('r0'), keys_only: true, serializable: true }));
    expect(keys.kvs.every((kv) => kv.value.length === 0)).toBe(true);
    const count = await ok(callUnary(clients[2]!, services.KV.Range, { key: b('r/'), range_end: b('r0'), count_only: true }));
    expect(count.kvs).toEqual([]);
    expect(count.count).toBe('3');
  });

  it('txn: compares, both branches, nested responses with only a revision in their header', async () => {
    const put = await ok(callUnary(clients[0]!, services.KV.Put, { key: b('t'), value: b('x') }));
    const txn = await ok(
      callUnary(clients[1]!, services.KV.Txn, {
        compare: [{ key: b('t'), target: 'VALUE', result: 'EQUAL', value: b('x') }],
        success: [{ request_put: { key: b('t'), value: b('y'), prev_kv: true } }, { request_range: { key: b('t') } }],
        failure: [],
      }),
    );
    expect(txn.succeeded).toBe(true);
    const [p, g] = txn.responses;
    expect(p!.response_put!.prev_kv!.value.toString()).toBe('x');
    expect(p!.response_put!.header).toEqual({ cluster_id: '0', member_id: '0', revision: txn.header!.revision, raft_term: '0' });
    expect(g!.response_range!.kvs[0]!.value.toString()).toBe('y');
    expect(Number(txn.header!.revision)).toBe(Number(put.header!.revision) + 1);
    const failed = await ok(
      callUnary(clients[2]!, services.KV.Txn, {
        compare: [{ key: b('t'), target: 'MOD', result: 'LESS', mod_revision: 1 }],
        success: [{ request_delete_range: { key: b('t') } }],
        failure: [{ request_range: { key: b('t') } }],
      }),
    );
    expect(failed.succeeded).toBe(false);
    expect(failed.responses[0]!.response_range!.kvs[0]!.value.toString()).toBe('y');
  });

  it('answers etcd\'s errors with etcd\'s codes and messages', async () => {
    const cases: [Promise<{ ok: boolean; code?: number; details?: string }>, number, string][] = [
      [callUnary(clients[0]!, services.KV.Range, { key: b('') }), grpc.status.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
      [callUnary(clients[1]!, services.KV.Put, { key: b('') , value: b('v') }), grpc.status.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
      [callUnary(clients[1]!, services.KV.Put, { key: b('nokey'), ignore_value: true }), grpc.status.INVALID_ARGUMENT, 'etcdserver: key not found'],
      [callUnary(clients[2]!, services.KV.Range, { key: b('h'), revision: 1_000_000 }), grpc.status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
      [callUnary(clients[2]!, services.Lease.LeaseRevoke, { ID: 12345 }), grpc.status.NOT_FOUND, 'etcdserver: requested lease not found'],
      [callUnary(clients[0]!, services.KV.Put, { key: b('big'), value: Buffer.alloc(1.6 * 1024 * 1024) }), grpc.status.INVALID_ARGUMENT, 'etcdserver: request is too large'],
      [callUnary(clients[0]!, services.Auth.Authenticate, { name: 'root', password: 'x' }), grpc.status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'],
      [callUnary(clients[0]!, services.Auth.UserAdd, { name: 'root', password: 'x' }), grpc.status.UNIMPLEMENTED, ''],
    ];
    for (const [call, code, details] of cases) {
      const r = await call;
      expect(r.ok).toBe(false);
      expect(r.code).toBe(code);
      if (details !== '') expect(r.details).toBe(details);
    }
  });

  it('survives bad input: a message over the receive limit and malformed protobuf fail that call only', async () => {
    const huge = await callUnary(clients[0]!, services.KV.Put, { key: b('huge'), value: Buffer.alloc(2.5 * 1024 * 1024) });
    expect(huge.ok).toBe(false);
    if (!huge.ok) expect(huge.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const garbage = await new Promise<grpc.ServiceError | null>((resolve) => {
      clients[0]!.makeUnaryRequest(
        services.KV.Range.path,
        () => Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), // a length far past the end
        (x: Buffer) => x,
        {},
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (err) => resolve(err),
      );
    });
    expect(garbage).not.toBeNull();
    expect(garbage!.code).toBe(grpc.status.INTERNAL);
    const after = await ok(callUnary(clients[0]!, services.KV.Range, { key: b('h') }));
    expect(after.kvs).toHaveLength(1);
  });
});

describe('Auth', () => {
  it('AuthStatus (etcd 3.5) answers auth disabled with a filled header; the rest is UNIMPLEMENTED', async () => {
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      clients[1]!.makeUnaryRequest(
        '/etcdserverpb.Auth/AuthStatus',
        () => Buffer.alloc(0),
        (x: Buffer) => x,
        {},
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (err, r) => (err ? reject(err) : resolve(r!)),
      );
    });
    // AuthStatusResponse{header = 1, enabled = 2, authRevision = 3}: CompactionResponse has the
    // same field 1, so its decoder reads the header; nothing else may be on the wire (disabled).
    const asCompaction = services.KV.Compact.responseDeserialize(bytes);
    expect(asCompaction.header!.cluster_id).toBe(cluster.ids.clusterId.toString());
    expect(Number(asCompaction.header!.revision)).toBeGreaterThan(0);
    expect(bytes[0]).toBe(0x0a);
    expect(bytes.length).toBe(2 + bytes[1]!);
    const other = await callUnary(clients[1]!, services.Auth.UserList, {});
    expect(other).toMatchObject({ ok: false, code: grpc.status.UNIMPLEMENTED });
  });
});

describe('Watch', () => {
  it('several watches on one stream: client-chosen and automatic ids, events, progress, cancel', async () => {
    const w = openWatch(clients[2]!);
    try {
      w.send({ create_request: { key: b('w/a'), watch_id: 7 } });
      const c7 = await w.next();
      expect([c7.watch_id, c7.created, c7.canceled]).toEqual(['7', true, false]);
      w.send({ create_request: { key: b('w/'), range_end: b('w0'), prev_kv: true } });
      const c0 = await w.next();
      expect([c0.watch_id, c0.created]).toEqual(['0', true]);
      w.send({ create_request: { key: b('w/b'), watch_id: 7 } });
      const dup = await w.next();
      expect([dup.watch_id, dup.created, dup.canceled, dup.cancel_reason]).toEqual(['-1', true, true, 'mvcc: duplicate watch ID provided on the WatchStream']);

      const p1 = await ok(callUnary(clients[0]!, services.KV.Put, { key: b('w/a'), value: b('1') }));
      const p2 = await ok(callUnary(clients[1]!, services.KV.Put, { key: b('w/a'), value: b('2') }));
      const got = [await w.next(), await w.next(), await w.next(), await w.next()];
      const byId = (id: string) => got.filter((r) => r.watch_id === id).flatMap((r) => r.events.map((e) => [e.type, e.kv!.value.toString(), e.kv!.mod_revision, e.prev_kv?.value.toString()]));
      expect(byId('7')).toEqual([
        ['PUT', '1', p1.header!.revision, undefined],
        ['PUT', '2', p2.header!.revision, undefined],
      ]);
      expect(byId('0')).toEqual([
        ['PUT', '1', p1.header!.revision, undefined],
        ['PUT', '2', p2.header!.revision, '1'],
      ]);

      w.send({ progress_request: {} });
      const progress = await w.next();
      expect(progress.watch_id).toBe('-1');
      expect(progress.events).toEqual([]);
      expect(Number(progress.header!.revision)).toBeGreaterThanOrEqual(Number(p2.header!.revision));

      w.send({ cancel_request: { watch_id: 7 } });
      const canceled = await w.next();
      expect([canceled.watch_id, canceled.canceled]).toEqual(['7', true]);
      const p3 = await ok(callUnary(clients[0]!, services.KV.Put, { key: b('w/a'), value: b('3') }));
      const only0 = await w.next();
      expect(only0.watch_id).toBe('0');
      expect(only0.events[0]!.kv!.mod_revision).toBe(p3.header!.revision);
    } finally {
      w.close();
    }
  });

  it('a start revision below the compact revision: created, then canceled with compact_revision', async () => {
    const first = await ok(callUnary(clients[0]!, services.KV.Put, { key: b('wc'), value: b('1') }));
    const second = await ok(callUnary(clients[0]!, services.KV.Put, { key: b('wc'), value: b('2') }));
    await ok(callUnary(clients[0]!, services.KV.Compact, { revision: second.header!.revision }));
    // Wait until the member that serves the watch applied the compaction (a linearizable read there).
    await ok(callUnary(clients[1]!, services.KV.Range, { key: b('wc') }));
    const w = openWatch(clients[1]!);
    try {
      w.send({ create_request: { key: b('wc'), start_revision: first.header!.revision } });
      const created = await w.next();
      expect([created.created, created.canceled]).toEqual([true, false]);
      const cancel = await w.next();
      expect(cancel.watch_id).toBe(created.watch_id);
      expect(cancel.canceled).toBe(true);
      expect(cancel.compact_revision).toBe(second.header!.revision);
    } finally {
      w.close();
    }
  });

  it('fragments a large response as etcd: events packed under the limit, all but the last marked', () => {
    const ev = (i: number) => ({ type: 'PUT' as const, kv: { key: b(`k${i}`), value: Buffer.alloc(400), mod_revision: 5 } });
    const resp = { header: { revision: 5 }, watch_id: 1, events: Array.from({ length: 10 }, (_, i) => ev(i)) };
    const parts = fragments(resp, 1000);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flatMap((p) => p.events!.map((e) => e.kv!.key!.toString()))).toEqual(resp.events.map((e) => e.kv.key.toString()));
    expect(parts.map((p) => p.fragment)).toEqual([...parts.slice(1).map(() => true), false]);
    const serialize = services.Watch.Watch.responseSerialize;
    for (const p of parts) if (p.events!.length > 1) expect(serialize(p).length).toBeLessThan(1000);
    expect(fragments(resp, 1_000_000)).toEqual([resp]);
  });
});

describe('Lease', () => {
  it('grant, time to live with keys, leases, keepalive stream (TTL 0 for an unknown lease), revoke', async () => {
    const grant = await ok(callUnary(clients[1]!, services.Lease.LeaseGrant, { TTL: 30 }));
    expect(grant.TTL).toBe('30');
    await ok(callUnary(clients[2]!, services.KV.Put, { key: b('lk'), value: b('v'), lease: grant.ID }));
    const ttl = await ok(callUnary(clients[0]!, services.Lease.LeaseTimeToLive, { ID: grant.ID, keys: true }));
    expect(ttl.grantedTTL).toBe('30');
    expect(Number(ttl.TTL)).toBeGreaterThan(0);
    expect(ttl.keys.map((k) => k.toString())).toEqual(['lk']);
    const leases = await ok(callUnary(clients[2]!, services.Lease.LeaseLeases, {}));
    expect(leases.leases.map((l) => l.ID)).toContain(grant.ID);

    const m = services.Lease.LeaseKeepAlive;
    const call = clients[2]!.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    call.on('error', () => undefined); // the CANCELLED of our own cancel() below
    const answers: { ID: string; TTL: string }[] = [];
    const two = new Promise<void>((resolve) => call.on('data', (r: { ID: string; TTL: string }) => answers.push(r) === 2 && resolve()));
    call.write({ ID: grant.ID });
    call.write({ ID: 999 });
    await two;
    call.cancel();
    expect(answers.map((a) => [a.ID, a.TTL])).toEqual([
      [grant.ID, '30'],
      ['999', '0'],
    ]);

    await ok(callUnary(clients[0]!, services.Lease.LeaseRevoke, { ID: grant.ID }));
    const gone = await ok(callUnary(clients[1]!, services.Lease.LeaseTimeToLive, { ID: grant.ID }));
    expect(gone.TTL).toBe('-1');
    const key = await ok(callUnary(clients[1]!, services.KV.Range, { key: b('lk') }));
    expect(key.kvs).toEqual([]);
  });
});

describe('Maintenance, Cluster, health', () => {
  it('Status, HashKV (equal on every member), MemberList, Alarm, health Check', async () => {
    const put = await ok(callUnary(clients[0]!, services.KV.Put, { key: b('m'), value: b('1') }));
    const leader = await cluster.leader();
    const leaderRecord = cluster.ids.members().find((r) => r.raftId === leader.id)!;
    for (const c of clients) {
      const s = await ok(callUnary(c, services.Maintenance.Status, {}));
      expect(s.version).toBe('3.4.23');
      expect(s.leader).toBe(leaderRecord.id.toString());
      expect(Number(s.dbSize)).toBeGreaterThan(0);
      expect(s.errors).toEqual([]);
    }
    await ok(callUnary(clients[1]!, services.KV.Range, { key: b('m') }));
    await ok(callUnary(clients[2]!, services.KV.Range, { key: b('m') }));
    const hashes = await Promise.all(clients.map((c) => ok(callUnary(c, services.Maintenance.HashKV, { revision: put.header!.revision }))));
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
    const list = await ok(callUnary(clients[2]!, services.Cluster.MemberList, {}));
    expect(list.members.map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(list.members.every((m) => !m.isLearner && m.clientURLs.length === 1)).toBe(true);
    const alarms = await ok(callUnary(clients[0]!, services.Maintenance.Alarm, { action: 'GET' }));
    expect(alarms.alarms).toEqual([]);
    const health = await ok(callUnary(clients[1]!, services.Health.Check, { service: '' }));
    expect(health.status).toBe('SERVING');
  });

  it('Snapshot streams the store as etcd\'s backend file with etcd\'s SHA-256 trailer', async () => {
    const m = services.Maintenance.Snapshot;
    const call = clients[1]!.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, {});
    const blobs: Buffer[] = [];
    const remaining: number[] = [];
    await new Promise<void>((resolve, reject) => {
      call.on('data', (r: { blob: Buffer; remaining_bytes: string }) => {
        blobs.push(r.blob);
        remaining.push(Number(r.remaining_bytes));
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    const file = Buffer.concat(blobs);
    expect(file.length % 512).toBe(32);
    const body = file.subarray(0, file.length - 32);
    expect(file.subarray(file.length - 32).equals(createHash('sha256').update(body).digest())).toBe(true);
    // etcd's backend: a bbolt file (its magic in the first meta page) with etcd's buckets.
    expect(body.readUInt32LE(16)).toBe(0xed0cdaed);
    expect(new BoltFile(body).bucketNames().map((n) => Buffer.from(n).toString())).toEqual(['key', 'lease', 'meta']);
    expect(remaining.at(-1)).toBe(0);
    expect(remaining.at(-2)).toBe(0);
  });
});

describe('Cluster', () => {
  it('MemberAdd (learner), MemberPromote refusals, MemberUpdate, MemberRemove, as Raft membership changes', async () => {
    const C = services.Cluster;
    const names = async (i: number) =>
      (await ok(callUnary(clients[i]!, C.MemberList, {}))).members.map((m) => [m.name, m.peerURLs.join(','), m.isLearner]);
    const before = await names(0);
    expect(before.map(([n]) => n).sort()).toEqual(['m1', 'm2', 'm3']);

    const added = await ok(callUnary(clients[1]!, C.MemberAdd, { peerURLs: ['http://127.0.0.1:2399'], isLearner: true }));
    expect(added.member).toMatchObject({ name: '', peerURLs: ['http://127.0.0.1:2399'], isLearner: true });
    expect(added.members).toHaveLength(4);
    const raftLearners = () => cluster.members.map((m) => m.raft.membership().learners.length);
    for (let i = 0; i < 100 && raftLearners().some((n) => n !== 1); i++) await new Promise((r) => setTimeout(r, 20));
    expect(raftLearners()).toEqual([1, 1, 1]);
    // Every member lists it (the record and the Raft change are replicated).
    for (const i of [0, 2]) expect(await names(i)).toContainEqual(['', 'http://127.0.0.1:2399', true]);

    expect(await callUnary(clients[2]!, C.MemberAdd, { peerURLs: ['http://127.0.0.1:2398'], isLearner: true })).toMatchObject({
      ok: false,
      code: grpc.status.FAILED_PRECONDITION,
      details: 'etcdserver: too many learner members in cluster',
    });
    expect(await callUnary(clients[2]!, C.MemberAdd, { peerURLs: ['http://127.0.0.1:2399'] })).toMatchObject({
      ok: false,
      details: 'etcdserver: Peer URLs already exists',
    });
    expect(await callUnary(clients[2]!, C.MemberAdd, { peerURLs: ['127.0.0.1:2399'] })).toMatchObject({
      ok: false,
      code: grpc.status.INVALID_ARGUMENT,
      details: 'etcdserver: given member URLs are invalid',
    });
    // The learner was never started: its match index is 0, far below the leader's.
    expect(await callUnary(clients[1]!, C.MemberPromote, { ID: added.member!.ID })).toMatchObject({
      ok: false,
      code: grpc.status.FAILED_PRECONDITION,
      details: 'etcdserver: can only promote a learner member which is in sync with leader',
    });
    const voter = cluster.ids.members().find((m) => m.raftId === 3)!;
    expect(await callUnary(clients[0]!, C.MemberPromote, { ID: voter.id.toString() })).toMatchObject({
      ok: false,
      details: 'etcdserver: can only promote a learner member',
    });
    expect(await callUnary(clients[0]!, C.MemberRemove, { ID: '12345' })).toMatchObject({
      ok: false,
      code: grpc.status.NOT_FOUND,
      details: 'etcdserver: member not found',
    });

    await ok(callUnary(clients[0]!, C.MemberRemove, { ID: added.member!.ID }));
    for (let i = 0; i < 100 && raftLearners().some((n) => n !== 0); i++) await new Promise((r) => setTimeout(r, 20));
    expect(raftLearners()).toEqual([0, 0, 0]);
    expect((await names(2)).map(([n]) => n).sort()).toEqual(['m1', 'm2', 'm3']);

    await ok(callUnary(clients[2]!, C.MemberUpdate, { ID: voter.id.toString(), peerURLs: ['http://127.0.0.1:2500'] }));
    await ok(callUnary(clients[1]!, services.KV.Range, { key: b('h') })); // a linearizable read: the update applied on member 1
    expect(await names(1)).toContainEqual(['m3', 'http://127.0.0.1:2500', false]);
    expect(cluster.members[1]!.raft.membership().addresses.get(3)).toBe('127.0.0.1:2500');
  });
});

describe('v3lock and v3election', () => {
  it('Lock waits for the holder\'s Unlock', async () => {
    const first = await ok(callUnary(clients[0]!, services.Lock.Lock, { name: b('L') }));
    expect(first.key.toString().startsWith('L/')).toBe(true);
    let secondDone = false;
    const second = ok(callUnary(clients[1]!, services.Lock.Lock, { name: b('L') })).then((r) => ((secondDone = true), r));
    // The second holder is queued behind the first: its key exists, created later.
    for (let i = 0; i < 100; i++) {
      const keys = await ok(callUnary(clients[2]!, services.KV.Range, { key: b('L/'), range_end: b('L0') }));
      if (keys.kvs.length === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(secondDone).toBe(false);
    await ok(callUnary(clients[2]!, services.Lock.Unlock, { key: first.key }));
    const got = await second;
    expect(got.key.equals(first.key)).toBe(false);
    await ok(callUnary(clients[2]!, services.Lock.Unlock, { key: got.key }));
  });

  it('Campaign, Leader, Proclaim, Observe, Resign', async () => {
    const E = services.Election;
    const none = await callUnary(clients[0]!, E.Leader, { name: b('E') });
    expect(none).toMatchObject({ ok: false, code: grpc.status.UNKNOWN, details: 'election: no leader' });
    const won = await ok(callUnary(clients[0]!, E.Campaign, { name: b('E'), value: b('a') }));
    const observed: string[] = [];
    const obs = clients[2]!.makeServerStreamRequest(E.Observe.path, E.Observe.requestSerialize, E.Observe.responseDeserialize, { name: b('E') });
    obs.on('error', () => undefined);
    const seen = new Promise<void>((resolve) =>
      obs.on('data', (r: { kv: { value: Buffer } }) => observed.push(r.kv.value.toString()) === 2 && resolve()),
    );
    const leader = await ok(callUnary(clients[1]!, E.Leader, { name: b('E') }));
    expect(leader.kv!.value.toString()).toBe('a');
    await ok(callUnary(clients[1]!, E.Proclaim, { leader: won.leader, value: b('a2') }));
    await seen;
    obs.cancel();
    expect(observed).toEqual(['a', 'a2']);
    const stale = await callUnary(clients[1]!, E.Proclaim, { leader: { ...won.leader!, rev: 1 }, value: b('x') });
    expect(stale).toMatchObject({ ok: false, code: grpc.status.UNKNOWN, details: 'election: not leader' });
    await ok(callUnary(clients[2]!, E.Resign, { leader: won.leader }));
    expect(await callUnary(clients[0]!, E.Leader, { name: b('E') })).toMatchObject({ ok: false, details: 'election: no leader' });
  });
});
