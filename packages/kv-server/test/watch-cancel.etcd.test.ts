import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETCD_WATCH_CANCEL_REASONS } from '../src/etcd-errors.js';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import type { WatchRequest } from '../src/proto-types/etcdserverpb/WatchRequest.js';
import type { WatchResponse__Output } from '../src/proto-types/etcdserverpb/WatchResponse.js';
import { type EtcdCluster, startEtcdCluster } from '../src/testing/index.js';
import { callUnary, grpcClient } from './support/grpc-call.js';

/** How etcd 3.4 refuses and cancels watches on an open Watch stream (not gRPC errors). */

const { services } = loadEtcdProtos();
const b = (s: string): Buffer => Buffer.from(s);

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

/** One Watch stream; `next()` is the next response, failing after 10 s rather than hanging. */
function openWatch(): { send(r: WatchRequest): void; next(): Promise<WatchResponse__Output>; close(): void } {
  const m = services.Watch.Watch;
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, new grpc.Metadata(), {
    deadline: Date.now() + 30_000,
  });
  const queue: WatchResponse__Output[] = [];
  const waiting: ((r: WatchResponse__Output) => void)[] = [];
  call.on('data', (r: WatchResponse__Output) => {
    const w = waiting.shift();
    if (w !== undefined) w(r);
    else queue.push(r);
  });
  call.on('error', () => undefined);
  return {
    send: (r) => call.write(r),
    next: () => {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no watch response within 10 s')), 10_000);
        waiting.push((r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
    },
    close: () => call.cancel(),
  };
}

describe('watch refusals and cancels against etcd 3.4', () => {
  it('an empty range is refused on the stream with etcd\'s reason', async () => {
    const w = openWatch();
    try {
      w.send({ create_request: { key: b('b'), range_end: b('a') } });
      const r = await w.next();
      expect(r).toMatchObject({ created: true, canceled: true, watch_id: '-1', cancel_reason: ETCD_WATCH_CANCEL_REASONS.EmptyWatcherRange });
    } finally {
      w.close();
    }
  });

  it('a client-chosen watch id already in use is refused', async () => {
    const w = openWatch();
    try {
      w.send({ create_request: { key: b('k'), watch_id: 7 } });
      expect(await w.next()).toMatchObject({ created: true, canceled: false, watch_id: '7' });
      w.send({ create_request: { key: b('other'), watch_id: 7 } });
      expect(await w.next()).toMatchObject({
        created: true,
        canceled: true,
        watch_id: '-1',
        cancel_reason: ETCD_WATCH_CANCEL_REASONS.DuplicateWatchId,
      });
    } finally {
      w.close();
    }
  });

  it('a start revision already compacted: created, then canceled with the compact revision and no reason', async () => {
    const first = await callUnary(client, services.KV.Put, { key: b('c'), value: b('1') });
    await callUnary(client, services.KV.Put, { key: b('c'), value: b('2') });
    const last = await callUnary(client, services.KV.Put, { key: b('c'), value: b('3') });
    if (!first.ok || !last.ok) throw new Error('put failed');
    const compactAt = Number(last.response.header!.revision);
    expect((await callUnary(client, services.KV.Compact, { revision: compactAt })).ok).toBe(true);
    const w = openWatch();
    try {
      w.send({ create_request: { key: b('c'), start_revision: Number(first.response.header!.revision) } });
      const created = await w.next();
      expect(created).toMatchObject({ created: true, canceled: false, cancel_reason: '' });
      const canceled = await w.next();
      expect(canceled).toMatchObject({
        watch_id: created.watch_id,
        created: false,
        canceled: true,
        compact_revision: String(compactAt),
        cancel_reason: '',
        events: [],
      });
    } finally {
      w.close();
    }
  });

  it('canceling a watch answers canceled with its id', async () => {
    const w = openWatch();
    try {
      w.send({ create_request: { key: b('k') } });
      const created = await w.next();
      w.send({ cancel_request: { watch_id: created.watch_id } });
      expect(await w.next()).toMatchObject({ watch_id: created.watch_id, canceled: true, created: false, cancel_reason: '' });
    } finally {
      w.close();
    }
  });
});
