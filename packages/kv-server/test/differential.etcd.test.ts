import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import type { WatchResponse__Output } from '../src/proto-types/etcdserverpb/WatchResponse.js';
import { type EtcdCluster, startEtcdCluster } from '../src/testing/index.js';
import { callUnary } from './support/grpc-call.js';
import { type GrpcCluster, startGrpcCluster } from './support/grpc-cluster.js';

/**
 * The same scripted gRPC calls against pontoon-kv (3 in-process members) and a real etcd 3.4
 * (3 members), each call sent to the same member index on both; the answers are compared field
 * by field with the ids (cluster_id, member_id), raft_term and lease TTLs counting down set
 * aside. Revisions, versions, values, errors and watch events must be equal.
 */

const { services } = loadEtcdProtos();
let etcd: EtcdCluster;
let pontoon: GrpcCluster;
let etcdClients: grpc.Client[];
let pontoonClients: grpc.Client[];

beforeAll(async () => {
  [etcd, pontoon] = await Promise.all([startEtcdCluster({ size: 3 }), startGrpcCluster(3)]);
  await pontoon.leader();
  etcdClients = etcd.endpoints.map((e) => new grpc.Client(e.replace(/^http:\/\//, ''), grpc.credentials.createInsecure()));
  pontoonClients = pontoon.endpoints.map((e) => new grpc.Client(e, grpc.credentials.createInsecure()));
}, 60_000);

afterAll(async () => {
  for (const c of [...(etcdClients ?? []), ...(pontoonClients ?? [])]) c.close();
  await Promise.all([etcd?.stop(), pontoon?.close()]);
});

const b = (s: string): Buffer => Buffer.from(s);

/** Drops what legitimately differs between two clusters: ids and terms. Buffers become strings. */
function normalize(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return `bytes:${v.toString('latin1')}`;
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'cluster_id' || k === 'member_id' || k === 'raft_term') continue;
      out[k] = normalize(x);
    }
    return out;
  }
  return v;
}

type Method = { path: string; requestSerialize: (v: never) => Buffer; responseDeserialize: (b: Buffer) => unknown };

/** Calls `method` on member `i` of both clusters and expects the same answer. */
async function same(i: number, method: Method, request: object, what: string): Promise<unknown> {
  const m = method as unknown as Parameters<typeof callUnary>[1];
  const [e, p] = await Promise.all([callUnary(etcdClients[i]!, m, request), callUnary(pontoonClients[i]!, m, request)]);
  const ne = normalize(e);
  expect(normalize(p), what).toEqual(ne);
  return ne;
}

describe('pontoon-kv and etcd 3.4 answer the same script alike', () => {
  it('KV: puts, ranges, deletes, txns, errors, compaction', async () => {
    const KV = services.KV;
    await same(0, KV.Put, { key: b('a'), value: b('1') }, 'put a');
    await same(1, KV.Put, { key: b('b'), value: b('2'), prev_kv: true }, 'put b');
    await same(2, KV.Put, { key: b('a'), value: b('3'), prev_kv: true }, 'put a again, prev_kv');
    await same(0, KV.Put, { key: b('c/x'), value: b('cx') }, 'put c/x');
    await same(1, KV.Put, { key: b('c/y'), value: b('cy') }, 'put c/y');
    await same(2, KV.Range, { key: b('a') }, 'get a');
    await same(0, KV.Range, { key: b('a'), revision: 1 }, 'get a at rev 1');
    await same(1, KV.Range, { key: b('c/'), range_end: b('c0') }, 'prefix');
    await same(2, KV.Range, { key: b('\0'), range_end: b('\0') }, 'every key');
    await same(0, KV.Range, { key: b('a'), range_end: b('\0'), limit: 2, sort_order: 'DESCEND', sort_target: 'MOD' }, 'from key, sorted, limit');
    await same(1, KV.Range, { key: b('a'), range_end: b('z'), count_only: true }, 'count only');
    await same(2, KV.Range, { key: b('a'), range_end: b('z'), keys_only: true, serializable: true, min_mod_revision: 3 }, 'keys only, min mod');
    await same(0, KV.Range, { key: b('nothing') }, 'missing key');
    await same(1, KV.DeleteRange, { key: b('b'), prev_kv: true }, 'delete b');
    await same(2, KV.DeleteRange, { key: b('nothing') }, 'delete missing');
    await same(0, KV.DeleteRange, { key: b('c/'), range_end: b('c0'), prev_kv: true }, 'delete prefix');
    await same(
      1,
      KV.Txn,
      {
        compare: [
          { key: b('a'), target: 'VALUE', result: 'EQUAL', value: b('3') },
          { key: b('a'), target: 'VERSION', result: 'GREATER', version: 1 },
        ],
        success: [{ request_put: { key: b('t'), value: b('ok'), prev_kv: true } }, { request_range: { key: b('a') } }, { request_delete_range: { key: b('a'), prev_kv: true } }],
        failure: [{ request_range: { key: b('t') } }],
      },
      'txn success',
    );
    await same(
      2,
      KV.Txn,
      {
        compare: [{ key: b('t'), target: 'CREATE', result: 'LESS', create_revision: 2 }],
        success: [{ request_put: { key: b('never'), value: b('x') } }],
        failure: [{ request_txn: { compare: [], success: [{ request_range: { key: b('t') } }], failure: [] } }],
      },
      'txn failure, nested txn',
    );
    await same(0, KV.Txn, { compare: [], success: [], failure: [] }, 'empty txn');
    // Errors.
    await same(0, KV.Range, { key: b('') }, 'empty key');
    await same(1, KV.Range, { key: b('a'), revision: 1000 }, 'future revision');
    await same(2, KV.Put, { key: b('nokey'), value: b(''), ignore_value: true }, 'ignore_value on a missing key');
    await same(0, KV.Put, { key: b('t'), value: b('x'), ignore_value: true }, 'ignore_value with a value');
    await same(1, KV.Put, { key: b('t'), value: b('x'), lease: 42 }, 'put with a missing lease');
    await same(
      2,
      KV.Txn,
      { compare: [], success: [{ request_put: { key: b('d'), value: b('1') } }, { request_put: { key: b('d'), value: b('2') } }], failure: [] },
      'duplicate key in txn',
    );
    const many = Array.from({ length: 129 }, (_, i) => ({ request_range: { key: b(`k${i}`) } }));
    await same(0, KV.Txn, { compare: [], success: many, failure: [] }, 'too many operations');
    // Compaction.
    await same(1, KV.Put, { key: b('v'), value: b('1') }, 'put v');
    const last = (await same(2, KV.Put, { key: b('v'), value: b('2') }, 'put v again')) as { ok: true; response: { header: { revision: string } } };
    const rev = Number(last.response.header.revision);
    await same(0, KV.Compact, { revision: rev - 1 }, 'compact');
    await same(1, KV.Compact, { revision: rev - 2 }, 'compact below the compact revision');
    await same(2, KV.Compact, { revision: rev + 100 }, 'compact a future revision');
    await same(0, KV.Range, { key: b('v'), revision: rev - 2 }, 'read at a compacted revision');
    await same(1, KV.Range, { key: b('v'), revision: rev - 1 }, 'read at the compact revision');
    await same(2, services.Maintenance.HashKV, { revision: rev }, 'hashkv');
    // etcd takes any int64: negatives are the latest revision, no limit, a filter that leaves
    // nothing (max), a compacted revision, the hash of no revision; an end below the key is empty.
    await same(0, KV.Range, { key: b('a'), range_end: b('z'), limit: -3, revision: -7, min_mod_revision: -1, min_create_revision: -1 }, 'negative limit, revision, minimums');
    await same(1, KV.Range, { key: b('a'), range_end: b('z'), max_mod_revision: -1 }, 'negative max_mod_revision');
    await same(2, KV.Range, { key: b('z'), range_end: b('a') }, 'range end below the key');
    await same(0, KV.DeleteRange, { key: b('z'), range_end: b('a'), prev_kv: true }, 'delete with the end below the key');
    await same(1, KV.Compact, { revision: -2 }, 'compact a negative revision');
    await same(2, services.Maintenance.HashKV, { revision: -1 }, 'hashkv at a negative revision');
    // Clients given credentials authenticate first; with authentication off etcd says so.
    await same(0, services.Auth.Authenticate, { name: 'root', password: 'x' }, 'authenticate with authentication off');
  });

  it('leases: grant with an id, attach, time to live, revoke, errors', async () => {
    const L = services.Lease;
    await same(0, L.LeaseGrant, { ID: 7001, TTL: 60 }, 'grant');
    await same(1, L.LeaseGrant, { ID: 7001, TTL: 60 }, 'grant an existing id');
    await same(2, L.LeaseGrant, { ID: 7002, TTL: 9_000_000_001 }, 'grant a too large TTL');
    await same(0, services.KV.Put, { key: b('leased'), value: b('x'), lease: 7001 }, 'put with the lease');
    const ttl = async (i: number) => {
      const [e, p] = await Promise.all([
        callUnary(etcdClients[i]!, L.LeaseTimeToLive, { ID: 7001, keys: true }),
        callUnary(pontoonClients[i]!, L.LeaseTimeToLive, { ID: 7001, keys: true }),
      ]);
      // TTL counts down on each cluster's own clock: compare it within a few seconds.
      const strip = (r: typeof e) => (r.ok ? { ...r, response: { ...r.response, TTL: Number(r.response.TTL) > 50 } } : r);
      expect(normalize(strip(p))).toEqual(normalize(strip(e)));
    };
    await ttl(1);
    await same(2, L.LeaseRevoke, { ID: 7001 }, 'revoke');
    await same(0, L.LeaseRevoke, { ID: 7001 }, 'revoke again');
    await same(1, L.LeaseTimeToLive, { ID: 7001 }, 'time to live of a revoked lease');
    await same(2, services.KV.Range, { key: b('leased') }, 'the leased key is gone');
  });

  it('watch: history with prev_kv, filters, and a compacted start revision', async () => {
    const collect = async (client: grpc.Client, create: object, count: number): Promise<WatchResponse__Output[]> => {
      const m = services.Watch.Watch;
      const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
      call.on('error', () => undefined);
      const got: WatchResponse__Output[] = [];
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`watch: ${got.length} of ${count} responses`)), 10_000);
          call.on('data', (r: WatchResponse__Output) => {
            if (got.push(r) === count) {
              clearTimeout(timer);
              resolve();
            }
          });
          call.write({ create_request: create });
        });
      } finally {
        call.cancel();
      }
      return got;
    };
    const both = async (i: number, create: object, count: number, what: string) => {
      const [e, p] = await Promise.all([collect(etcdClients[i]!, create, count), collect(pontoonClients[i]!, create, count)]);
      expect(normalize(p), what).toEqual(normalize(e));
    };
    const KV = services.KV;
    for (const [i, v] of ['1', '2', '3'].entries()) await same(i, KV.Put, { key: b('w/k'), value: b(v) }, `put w/k ${v}`);
    await same(0, KV.DeleteRange, { key: b('w/k') }, 'delete w/k');
    const cur = (await same(1, KV.Range, { key: b('w/k') }, 'rev')) as { response: { header: { revision: string } } };
    const now = Number(cur.response.header.revision);
    await both(2, { key: b('w/'), range_end: b('w0'), start_revision: now - 3, prev_kv: true }, 2, 'history with prev_kv');
    await both(0, { key: b('w/'), range_end: b('w0'), start_revision: now - 3, filters: ['NOPUT'] }, 2, 'no puts');
    await both(1, { key: b('v'), start_revision: 2 }, 2, 'compacted start revision');
  });
});
