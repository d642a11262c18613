import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import { type GrpcCluster, startGrpcCluster } from './support/grpc-cluster.js';
import { callUnary } from './support/grpc-call.js';

/**
 * Streams opened and abandoned, and many idle connections: nothing of them outlives the
 * connection (watches are cancelled on the member), and the server keeps serving.
 */

const { services } = loadEtcdProtos();
let cluster: GrpcCluster;

beforeAll(async () => {
  cluster = await startGrpcCluster(3);
  await cluster.leader();
});

afterAll(async () => {
  await cluster?.close();
});

const watchesOn = (i: number): number => {
  const s = cluster.members[i]!.watchSizes();
  return s.synced + s.unsynced;
};

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not within 5 s`);
}

describe('abandoned calls and idle connections', () => {
  it('watch, keepalive and observe streams of a client that goes away leave nothing behind', async () => {
    const before = watchesOn(1);
    const client = new grpc.Client(cluster.endpoints[1]!, grpc.credentials.createInsecure());
    const W = services.Watch.Watch;
    const streams = Array.from({ length: 20 }, () => {
      const call = client.makeBidiStreamRequest(W.path, W.requestSerialize, W.responseDeserialize);
      call.on('error', () => undefined);
      call.on('data', () => undefined);
      for (let k = 0; k < 3; k++) call.write({ create_request: { key: Buffer.from(`abandoned/${k}`), start_revision: 1 } });
      return call;
    });
    const K = services.Lease.LeaseKeepAlive;
    const keepalive = client.makeBidiStreamRequest(K.path, K.requestSerialize, K.responseDeserialize);
    keepalive.on('error', () => undefined);
    keepalive.write({ ID: 1 });
    const O = services.Election.Observe;
    const observe = client.makeServerStreamRequest(O.path, O.requestSerialize, O.responseDeserialize, { name: Buffer.from('nobody') });
    observe.on('error', () => undefined);
    await until('60 watches open', () => watchesOn(1) >= before + 60);
    // The client goes away without cancelling anything.
    client.close();
    for (const s of streams) s.cancel();
    keepalive.cancel();
    observe.cancel();
    await until('watches cancelled', () => watchesOn(1) === before);
    expect(watchesOn(1)).toBe(before);
  });

  it('hundreds of idle connections, then closed, and the server still answers', async () => {
    const idle = Array.from({ length: 200 }, () => new grpc.Client(cluster.endpoints[0]!, grpc.credentials.createInsecure()));
    await Promise.all(
      idle.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())))),
    );
    for (const c of idle) c.close();
    const client = new grpc.Client(cluster.endpoints[0]!, grpc.credentials.createInsecure());
    try {
      const r = await callUnary(client, services.KV.Put, { key: Buffer.from('after-idle'), value: Buffer.from('1') });
      expect(r.ok).toBe(true);
    } finally {
      client.close();
    }
  });
});
