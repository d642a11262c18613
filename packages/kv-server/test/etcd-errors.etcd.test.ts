import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETCD_ERRORS, type EtcdErrorName, REQUIRE_LEADER_METADATA } from '../src/etcd-errors.js';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import { type EtcdCluster, startEtcdCluster } from '../src/testing/index.js';
import { type CallOutcome, callUnary, grpcClient } from './support/grpc-call.js';

/** Our table's entry for `name`, in the shape a failed call has. */
function expected(name: EtcdErrorName): { ok: false; code: grpc.status; details: string } {
  const [code, details] = ETCD_ERRORS[name];
  return { ok: false, code, details };
}

const { services } = loadEtcdProtos();
const b = (s: string): Buffer => Buffer.from(s);

describe('the error table against etcd 3.4 (one member)', () => {
  let cluster: EtcdCluster;
  let client: grpc.Client;
  beforeAll(async () => {
    cluster = await startEtcdCluster({ size: 1 });
    client = grpcClient(cluster.endpoints[0]!);
  });
  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  async function put(key: string, value: string): Promise<number> {
    const r = await callUnary(client, services.KV.Put, { key: b(key), value: b(value) });
    if (!r.ok) throw new Error(`put failed: ${r.details}`);
    return Number(r.response.header?.revision);
  }

  it('KV: empty key, key/value/lease with ignore_*, future and compacted revisions', async () => {
    const KV = services.KV;
    expect(await callUnary(client, KV.Range, { key: b('') })).toEqual(expected('EmptyKey'));
    expect(await callUnary(client, KV.Put, { key: b(''), value: b('v') })).toEqual(expected('EmptyKey'));
    expect(await callUnary(client, KV.Put, { key: b('absent'), ignore_value: true })).toEqual(expected('KeyNotFound'));
    await put('present', 'v');
    expect(await callUnary(client, KV.Put, { key: b('present'), value: b('x'), ignore_value: true })).toEqual(
      expected('ValueProvided'),
    );
    expect(await callUnary(client, KV.Put, { key: b('present'), lease: 7, ignore_lease: true })).toEqual(
      expected('LeaseProvided'),
    );
    const rev = await put('c', '1');
    await put('c', '2');
    expect(await callUnary(client, KV.Range, { key: b('c'), revision: rev + 1_000_000 })).toEqual(expected('FutureRev'));
    const compacted = await callUnary(client, KV.Compact, { revision: rev + 1 });
    expect(compacted.ok).toBe(true);
    expect(await callUnary(client, KV.Range, { key: b('c'), revision: rev })).toEqual(expected('Compacted'));
    expect(await callUnary(client, KV.Compact, { revision: rev })).toEqual(expected('Compacted'));
    expect(await callUnary(client, KV.Compact, { revision: rev + 1_000_000 })).toEqual(expected('FutureRev'));
  });

  it('KV: txn with too many operations or a key written twice; a request over the size limit', async () => {
    const ops = (n: number, key: (i: number) => string): object[] =>
      Array.from({ length: n }, (_, i) => ({ request_put: { key: b(key(i)), value: b('v') } }));
    // etcd's default --max-txn-ops is 128.
    expect(await callUnary(client, services.KV.Txn, { success: ops(129, (i) => `k${i}`) })).toEqual(expected('TooManyOps'));
    expect(await callUnary(client, services.KV.Txn, { success: ops(2, () => 'same') })).toEqual(expected('DuplicateKey'));
    // etcd's default --max-request-bytes is 1.5 MiB; gRPC itself allows 512 KiB more.
    const big = Buffer.alloc(1_700_000, 1);
    expect(await callUnary(client, services.KV.Put, { key: b('big'), value: big })).toEqual(expected('RequestTooLarge'));
  });

  it('Lease: unknown lease, an id granted twice, a TTL over the maximum', async () => {
    const L = services.Lease;
    expect(await callUnary(client, L.LeaseRevoke, { ID: 424242 })).toEqual(expected('LeaseNotFound'));
    const granted = await callUnary(client, L.LeaseGrant, { ID: 777, TTL: 60 });
    expect(granted.ok).toBe(true);
    expect(await callUnary(client, L.LeaseGrant, { ID: 777, TTL: 60 })).toEqual(expected('LeaseExist'));
    expect(await callUnary(client, L.LeaseGrant, { TTL: 9_000_000_001 })).toEqual(expected('LeaseTTLTooLarge'));
    expect(await callUnary(client, services.KV.Put, { key: b('k'), value: b('v'), lease: 424242 })).toEqual(
      expected('LeaseNotFound'),
    );
  });

  it('Cluster and Maintenance: unknown member, bad or taken URLs, promoting a voter, a bad transferee', async () => {
    const C = services.Cluster;
    const list = await callUnary(client, C.MemberList, {});
    if (!list.ok) throw new Error(list.details);
    const self = list.response.members[0]!;
    expect(await callUnary(client, C.MemberRemove, { ID: 1 })).toEqual(expected('MemberNotFound'));
    expect(await callUnary(client, C.MemberUpdate, { ID: 1, peerURLs: ['http://127.0.0.1:1'] })).toEqual(
      expected('MemberNotFound'),
    );
    expect(await callUnary(client, C.MemberAdd, { peerURLs: ['not a url'] })).toEqual(expected('MemberBadURLs'));
    // MemberAdd is refused in the first 5 s after start (Unhealthy) under strict reconfig
    // checks; a taken URL is refused before that check.
    const taken = await callUnary(client, C.MemberAdd, { peerURLs: self.peerURLs });
    expect([expected('PeerURLExist'), expected('Unhealthy')]).toContainEqual(taken);
    expect(await callUnary(client, C.MemberPromote, { ID: self.ID })).toEqual(expected('MemberNotLearner'));
    expect(await callUnary(client, services.Maintenance.MoveLeader, { targetID: 1 })).toEqual(expected('BadLeaderTransferee'));
  });

  it('Auth (disabled): no root user, empty and unknown names, authenticate', async () => {
    const A = services.Auth;
    expect(await callUnary(client, A.AuthEnable, {})).toEqual(expected('RootUserNotExist'));
    expect(await callUnary(client, A.UserAdd, { name: '' })).toEqual(expected('UserEmpty'));
    expect(await callUnary(client, A.RoleAdd, { name: '' })).toEqual(expected('RoleEmpty'));
    expect(await callUnary(client, A.UserGet, { name: 'nobody' })).toEqual(expected('UserNotFound'));
    expect(await callUnary(client, A.RoleGet, { role: 'nobody' })).toEqual(expected('RoleNotFound'));
    expect(await callUnary(client, A.Authenticate, { name: 'a', password: 'b' })).toEqual(expected('AuthNotEnabled'));
  });

  it('Election: no leader for a name, proclaim without leadership, a missing leader key', async () => {
    const E = services.Election;
    expect(await callUnary(client, E.Leader, { name: b('nobody-leads') })).toEqual(expected('ElectionNoLeader'));
    const leader = { name: b('e'), key: b('e/none'), rev: 1, lease: 1 };
    expect(await callUnary(client, E.Proclaim, { leader, value: b('v') })).toEqual(expected('ElectionNotLeader'));
    expect(await callUnary(client, E.Proclaim, { value: b('v') })).toEqual(expected('ElectionMissingLeaderKey'));
    expect(await callUnary(client, E.Resign, {})).toEqual(expected('ElectionMissingLeaderKey'));
  });
});

describe('the error table against etcd 3.4 (three members, two stopped)', () => {
  it('a member without a leader answers NoLeader to a call that requires one', async () => {
    const cluster = await startEtcdCluster({ size: 3, extraFlags: ['--heartbeat-interval=50', '--election-timeout=500'] });
    const client = grpcClient(cluster.endpoints[2]!);
    try {
      await cluster.stopMember(0);
      await cluster.stopMember(1);
      const metadata = new grpc.Metadata();
      metadata.set(REQUIRE_LEADER_METADATA.key, REQUIRE_LEADER_METADATA.value);
      // The survivor notices the lost quorum after an election timeout; until then a call may
      // still pass or time out. Bounded: 60 tries of at most 1 s each.
      let outcome: CallOutcome<object> | undefined;
      for (let i = 0; i < 60; i++) {
        outcome = await callUnary(client, services.KV.Range, { key: b('k') }, { metadata, timeoutMs: 1_000 });
        if (!outcome.ok && outcome.details === ETCD_ERRORS.NoLeader[1]) break;
      }
      expect(outcome).toEqual(expected('NoLeader'));
    } finally {
      client.close();
      await cluster.stop();
    }
  });
});
