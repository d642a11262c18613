import { Etcd3 } from 'etcd3';
import type { IKeyValue } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLOOR_MEMBER_IDS, startFloorServer } from '../floor-server.js';
import type { FloorServer } from '../floor-server.js';

describe("the kv bench's floor server, through the etcd3 client", () => {
  let server: FloorServer;
  let leader: Etcd3;
  let follower: Etcd3;

  beforeAll(async () => {
    server = await startFloorServer();
    leader = new Etcd3({ hosts: server.endpoints[0]! });
    follower = new Etcd3({ hosts: server.endpoints[2]! });
  });
  afterAll(async () => {
    leader?.close();
    follower?.close();
    await server?.close();
  });

  it('says member 1 leads, each port with its own member id', async () => {
    const a = await leader.maintenance.status();
    const c = await follower.maintenance.status();
    expect(a.leader).toBe(FLOOR_MEMBER_IDS[0]);
    expect(a.header.member_id).toBe(FLOOR_MEMBER_IDS[0]);
    expect(c.header.member_id).toBe(FLOOR_MEMBER_IDS[2]);
    expect(c.leader).toBe(FLOOR_MEMBER_IDS[0]);
  });

  it('counts revisions and versions as etcd does, and every port reads the same keys', async () => {
    const start = Number((await leader.maintenance.status()).header.revision);
    const first = await leader.put('floor/a').value('1').exec();
    const second = await leader.put('floor/a').value('2').exec();
    expect(Number(first.header.revision)).toBe(start + 1);
    expect(Number(second.header.revision)).toBe(start + 2);
    const got = await follower.get('floor/a').exec();
    const kv = got.kvs[0]!;
    expect(kv.value.toString()).toBe('2');
    expect(kv.version).toBe('2');
    expect(Number(kv.create_revision)).toBe(start + 1);
    expect(Number(kv.mod_revision)).toBe(start + 2);
    expect(await follower.get('floor/missing').string()).toBeNull();
    await leader.put('floor/b').value('x').exec();
    expect(await leader.getAll().prefix('floor/').count()).toBe(2);
    expect(await leader.getAll().prefix('floor/').keys()).toEqual(['floor/a', 'floor/b']);
  });

  it('commits a compare-and-swap only while the mod revision is unchanged', async () => {
    const rev = (await leader.put('floor/cas').value('v0').exec()).header.revision;
    const ok = await leader.if('floor/cas', 'Mod', '==', rev).then(leader.put('floor/cas').value('v1')).commit();
    expect(ok.succeeded).toBe(true);
    const stale = await leader.if('floor/cas', 'Mod', '==', rev).then(leader.put('floor/cas').value('v2')).commit();
    expect(stale.succeeded).toBe(false);
    expect(await leader.get('floor/cas').string()).toBe('v1');
    // A value compare on a missing key is false, as etcd's.
    const missing = await leader.if('floor/none', 'Value', '==', '').then(leader.put('floor/none').value('x')).commit();
    expect(missing.succeeded).toBe(false);
  });

  it('refuses compacting to a compacted or a future revision with etcd errors', async () => {
    const { revision } = (await leader.maintenance.status()).header;
    await leader.kv.compact({ revision });
    await expect(leader.kv.compact({ revision })).rejects.toThrow(/required revision has been compacted/);
    await expect(leader.kv.compact({ revision: String(Number(revision) + 10) })).rejects.toThrow(/required revision is a future revision/);
  });

  it("delivers a put on the leader to a watcher on another port, with that port's header", async () => {
    const watcher = await follower.watch().key('floor/w').create();
    try {
      const seen = new Promise<{ kv: IKeyValue; member: string }>((resolve) =>
        watcher.once('data', (res) => resolve({ kv: res.events[0]!.kv, member: res.header.member_id })),
      );
      const put = await leader.put('floor/w').value('event').exec();
      const { kv, member } = await seen;
      expect(kv.value.toString()).toBe('event');
      expect(kv.mod_revision).toBe(put.header.revision);
      expect(member).toBe(FLOOR_MEMBER_IDS[2]);
    } finally {
      await watcher.cancel();
    }
  });

  it('grants, keeps alive and revokes leases; a keepalive of an unknown lease answers TTL 0', async () => {
    const lease = await leader.leaseClient.leaseGrant({ TTL: 30 });
    expect(lease.TTL).toBe('30');
    const stream = await leader.leaseClient.leaseKeepAlive();
    try {
      const answers: string[] = [];
      const two = new Promise<void>((resolve) =>
        stream.on('data', (r) => {
          answers.push(r.TTL);
          if (answers.length === 2) resolve();
        }),
      );
      stream.write({ ID: lease.ID });
      stream.write({ ID: '987654321' });
      await two;
      expect(answers).toEqual(['30', '0']);
    } finally {
      stream.end();
    }
    await leader.leaseClient.leaseRevoke({ ID: lease.ID });
    await expect(leader.leaseClient.leaseRevoke({ ID: lease.ID })).rejects.toThrow(/requested lease not found/);
  });

  it('answers UNIMPLEMENTED for what the workloads never call', async () => {
    await expect(leader.delete().key('floor/a').exec()).rejects.toThrow(/not implemented|UNIMPLEMENTED|Unimplemented/i);
    await expect(leader.get('floor/a').revision(1).exec()).rejects.toThrow(/does not implement reads at a past revision/);
  });

  it('refuses a txn it cannot apply whole before writing any of it', async () => {
    const before = (await leader.maintenance.status()).header.revision;
    const success = [{ request_put: { key: Buffer.from('floor/txn'), value: Buffer.from('x') } }, { request_delete_range: { key: Buffer.from('floor/a') } }];
    await expect(leader.kv.txn({ success })).rejects.toThrow(/does not implement request_delete_range in a txn/);
    expect(await leader.get('floor/txn').string()).toBeNull();
    expect((await leader.maintenance.status()).header.revision).toBe(before);
  });
});
