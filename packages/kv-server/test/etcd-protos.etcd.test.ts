import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import { type EtcdCluster, startEtcdCluster } from '../src/testing/index.js';

/**
 * The vendored protos against a real etcd 3.4: every loaded method, called at its path with the
 * loaded serializers, reaches an etcd handler (any answer but UNIMPLEMENTED). A misspelt package,
 * service or method, or a message etcd cannot parse, would show here.
 */

type AnyMethod = MethodDefinition<object, object>;

/** Requests that make each call answer promptly without harming the cluster. */
const REQUESTS: Record<string, object> = {
  '/etcdserverpb.Watch/Watch': { create_request: { key: Buffer.from('probe') } },
  '/etcdserverpb.Lease/LeaseKeepAlive': { ID: 1 },
  '/v3electionpb.Election/Campaign': { name: Buffer.from('probe'), value: Buffer.from('v') },
  '/v3electionpb.Election/Observe': { name: Buffer.from('probe') },
  '/v3lockpb.Lock/Lock': { name: Buffer.from('probe-lock') },
};

let cluster: EtcdCluster;
let client: grpc.Client;

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 1 });
  client = new grpc.Client(cluster.endpoints[0]!.replace('http://', ''), grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

/** The status a call ends with, or 0 (OK) as soon as the first streamed message arrives. */
function probe(method: AnyMethod, request: object): Promise<grpc.status> {
  const options = { deadline: Date.now() + 10_000 };
  const metadata = new grpc.Metadata();
  return new Promise((resolve) => {
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, metadata, options, (err) =>
        resolve(err === null ? grpc.status.OK : err.code),
      );
      return;
    }
    const call = method.requestStream
      ? client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, metadata, options)
      : client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, request, metadata, options);
    let settled = false;
    call.on('data', () => {
      if (!settled) resolve(grpc.status.OK);
      settled = true;
      call.cancel();
    });
    call.on('error', (e: grpc.ServiceError) => {
      if (!settled) resolve(e.code);
      settled = true;
    });
    call.on('status', (s: grpc.StatusObject) => {
      if (!settled) resolve(s.code);
      settled = true;
    });
    if (method.requestStream) (call as grpc.ClientDuplexStream<object, object>).write(request);
  });
}

describe('vendored protos against etcd 3.4', () => {
  it('the probe tells an unknown method (UNIMPLEMENTED) from a known one', async () => {
    const range = loadEtcdProtos().services.KV.Range as AnyMethod;
    expect(await probe({ ...range, path: '/etcdserverpb.KV/NoSuchMethod' }, {})).toBe(grpc.status.UNIMPLEMENTED);
    expect(await probe(range, { key: Buffer.from('a') })).toBe(grpc.status.OK);
  });

  it('etcd implements every loaded method at its path', async () => {
    const { services } = loadEtcdProtos();
    const outcomes: Record<string, string> = {};
    // Campaign before Observe, so that Observe has a leader to report at once.
    for (const definition of Object.values(services)) {
      for (const method of Object.values(definition as Record<string, AnyMethod>)) {
        const code = await probe(method, REQUESTS[method.path] ?? {});
        outcomes[method.path] = grpc.status[code] ?? String(code);
      }
    }
    const unimplemented = Object.entries(outcomes).filter(([, code]) => code === 'UNIMPLEMENTED');
    expect(unimplemented, JSON.stringify(outcomes, null, 1)).toEqual([]);
    expect(Object.keys(outcomes)).toHaveLength(48);
  });
});
