import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import { type GrpcCluster, startGrpcCluster } from './support/grpc-cluster.js';
import { callUnary } from './support/grpc-call.js';

/**
 * The quota raises etcd's NOSPACE alarm: a write refused for space raises it for the member that
 * served it, every member then refuses writes that use space until it is disarmed, deletes still
 * go through, and Status lists it.
 */

const { services } = loadEtcdProtos();
const QUOTA = 1024 * 1024;
let cluster: GrpcCluster;
let clients: grpc.Client[];

beforeAll(async () => {
  cluster = await startGrpcCluster(3, { quotaBytes: QUOTA });
  await cluster.leader();
  clients = cluster.endpoints.map((e) => new grpc.Client(e, grpc.credentials.createInsecure()));
});

afterAll(async () => {
  for (const c of clients ?? []) c.close();
  await cluster?.close();
});

const NOSPACE = { ok: false, code: grpc.status.RESOURCE_EXHAUSTED, details: 'etcdserver: mvcc: database space exceeded' };

describe('NOSPACE alarm', () => {
  it('raised by the quota, caps writes on every member, listed, disarmed by the operator', async () => {
    const value = Buffer.alloc(100 * 1024, 7);
    let refused: Awaited<ReturnType<typeof callUnary>> | undefined;
    let written = 0;
    // 1 MiB of quota fills within a dozen 100 KiB puts; 30 bounds the loop.
    for (let i = 0; i < 30 && refused === undefined; i++) {
      const r = await callUnary(clients[1]!, services.KV.Put, { key: Buffer.from(`big/${i}`), value });
      if (r.ok) written++;
      else refused = r;
    }
    expect(written).toBeGreaterThan(0);
    expect(refused).toMatchObject(NOSPACE);

    // The alarm went through the log before the refusal was answered: a linearizable read on
    // each member waits until it applied there.
    for (const c of clients) await callUnary(c, services.KV.Range, { key: Buffer.from('big/0') });
    const served = cluster.ids.members().find((m) => m.raftId === cluster.members[1]!.id)!;
    const alarms = await callUnary(clients[2]!, services.Maintenance.Alarm, { action: 'GET' });
    expect(alarms).toMatchObject({ ok: true, response: { alarms: [{ memberID: served.id.toString(), alarm: 'NOSPACE' }] } });

    // Capped: even a tiny put or a lease grant is refused, on any member; a read-only txn and a delete are not.
    expect(await callUnary(clients[0]!, services.KV.Put, { key: Buffer.from('tiny'), value: Buffer.from('1') })).toMatchObject(NOSPACE);
    expect(await callUnary(clients[2]!, services.Lease.LeaseGrant, { TTL: 60 })).toMatchObject(NOSPACE);
    expect((await callUnary(clients[0]!, services.KV.Txn, { compare: [], success: [{ request_range: { key: Buffer.from('big/0') } }], failure: [] })).ok).toBe(true);
    const status = await callUnary(clients[0]!, services.Maintenance.Status, {});
    expect(status).toMatchObject({ ok: true, response: { errors: [`memberID:${served.id} alarm:NOSPACE `] } });

    const del = await callUnary(clients[0]!, services.KV.DeleteRange, { key: Buffer.from('big/'), range_end: Buffer.from('big0') });
    expect(del).toMatchObject({ ok: true, response: { deleted: String(written) } });
    if (!del.ok) return;
    expect((await callUnary(clients[0]!, services.KV.Compact, { revision: del.response.header!.revision, physical: true })).ok).toBe(true);
    for (const c of clients) expect((await callUnary(c, services.Maintenance.Defragment, {})).ok).toBe(true);
    // Space is back, but the alarm still caps writes until it is disarmed, as in etcd.
    expect(await callUnary(clients[1]!, services.KV.Put, { key: Buffer.from('tiny'), value: Buffer.from('1') })).toMatchObject(NOSPACE);
    const disarmed = await callUnary(clients[1]!, services.Maintenance.Alarm, { action: 'DEACTIVATE', memberID: served.id.toString(), alarm: 'NOSPACE' });
    expect(disarmed).toMatchObject({ ok: true, response: { alarms: [{ memberID: served.id.toString(), alarm: 'NOSPACE' }] } });
    // Disarmed through the log: a linearizable read on member 0 sees it applied there.
    await callUnary(clients[0]!, services.KV.Range, { key: Buffer.from('tiny') });
    expect((await callUnary(clients[0]!, services.KV.Put, { key: Buffer.from('tiny'), value: Buffer.from('1') })).ok).toBe(true);
  });
});
