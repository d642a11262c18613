/**
 * --max-request-bytes and large values, against etcd 3.4 with the same flag: what etcd accepts
 * pontoon-kv accepts, from any member (a follower forwards it), and what etcd refuses as too
 * large pontoon-kv refuses the same way. A put between 1 MiB and the limit used to fail with
 * "request is too large" (RaftNode's own 1 MiB limit on a command, and the store's check at apply
 * with its default 1.5 MiB whatever the flag).
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import { type EtcdCluster, type PontoonKvCluster, startEtcdCluster, startPontoonKvCluster } from '../src/testing/index.js';
import { type CallOutcome, callUnary, grpcClient } from './support/grpc-call.js';

const { services } = loadEtcdProtos();
const LIMIT = 3 * 1024 * 1024;
const flags = [`--max-request-bytes=${LIMIT}`];

let etcd: EtcdCluster;
let pontoon: PontoonKvCluster;
let etcdClient: grpc.Client;
let pontoonClients: grpc.Client[];

beforeAll(async () => {
  [etcd, pontoon] = await Promise.all([startEtcdCluster({ size: 1, extraFlags: flags }), startPontoonKvCluster({ size: 3, extraFlags: flags })]);
  etcdClient = grpcClient(etcd.endpoints[0]!);
  pontoonClients = pontoon.endpoints.map(grpcClient);
}, 120_000);

afterAll(async () => {
  etcdClient?.close();
  for (const c of pontoonClients ?? []) c.close();
  await Promise.all([etcd?.stop(), pontoon?.stop()]);
});

/** The outcome without what differs between two systems (headers, ids). */
function shape(r: CallOutcome<{ header?: unknown }>): unknown {
  return r.ok ? { ok: true } : { ok: false, code: r.code, details: r.details };
}

describe(`puts of large values with --max-request-bytes=${LIMIT}`, () => {
  it.each([
    ['1.2 MB, above RaftNode\'s default command limit', 1_200_000, true],
    ['2.5 MB, above the default --max-request-bytes', 2_500_000, true],
    ['3.2 MB, above the limit (within gRPC\'s 512 KiB of slack)', 3_200_000, false],
  ] as const)('%s: the same answer as etcd, from every member', async (_label, bytes, accepted) => {
    const value = Buffer.alloc(bytes, 7);
    const key = Buffer.from(`big/${bytes}`);
    const onEtcd = await callUnary(etcdClient, services.KV.Put, { key, value });
    expect(shape(onEtcd)).toEqual(accepted ? { ok: true } : { ok: false, code: 3, details: 'etcdserver: request is too large' });
    for (const [i, client] of pontoonClients.entries()) {
      const r = await callUnary(client, services.KV.Put, { key, value });
      expect(shape(r), `member ${i}`).toEqual(shape(onEtcd));
    }
    if (!accepted) return;
    // Every member applied it (a linearizable read on each waits for its apply).
    for (const client of pontoonClients) {
      const got = await callUnary(client, services.KV.Range, { key });
      expect(got.ok).toBe(true);
      if (got.ok) expect(Buffer.from((got.response as { kvs: { value: Buffer }[] }).kvs[0]!.value).equals(value)).toBe(true);
    }
  }, 60_000);
});
