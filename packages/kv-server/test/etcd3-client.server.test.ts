import { Etcd3, EtcdLockFailedError } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcCluster, startGrpcCluster } from './support/grpc-cluster.js';

/** The etcd3 npm client against pontoon-kv's server on a 3-member in-process cluster. */

let cluster: GrpcCluster;
let client: Etcd3;
/** One client per member, to check that every member serves every call. */
let perMember: Etcd3[];

beforeAll(async () => {
  cluster = await startGrpcCluster(3);
  await cluster.leader();
  client = new Etcd3({ hosts: cluster.endpoints.map((e) => `http://${e}`) });
  perMember = cluster.endpoints.map((e) => new Etcd3({ hosts: `http://${e}` }));
});

afterAll(async () => {
  client?.close();
  for (const c of perMember ?? []) c.close();
  await cluster?.close();
});

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('etcd3 npm client against pontoon-kv', () => {
  it('put, get, prefix get, delete on every member', async () => {
    for (const [i, c] of perMember.entries()) {
      await c.put(`app${i}/a`).value('1');
      await c.put(`app${i}/b`).value('2');
      expect(await c.get(`app${i}/a`).string()).toBe('1');
      expect(await c.getAll().prefix(`app${i}/`).strings()).toEqual({ [`app${i}/a`]: '1', [`app${i}/b`]: '2' });
      await c.delete().key(`app${i}/a`);
      expect(await c.get(`app${i}/a`).string()).toBeNull();
    }
  });

  it('a compare-and-swap transaction takes the branch the comparison picks', async () => {
    await client.put('cas').value('old');
    const swapped = await client.if('cas', 'Value', '==', 'old').then(client.put('cas').value('new')).commit();
    expect(swapped.succeeded).toBe(true);
    const again = await client.if('cas', 'Value', '==', 'old').then(client.put('cas').value('newer')).commit();
    expect(again.succeeded).toBe(false);
    expect(await client.get('cas').string()).toBe('new');
  });

  it('a watcher on a follower sees a put and a delete made on another member, in order', async () => {
    const leader = await cluster.leader();
    const followerIndex = cluster.members.findIndex((m) => m !== leader);
    const writerIndex = cluster.members.indexOf(leader);
    const watcher = await perMember[followerIndex]!.watch().key('watched').create();
    try {
      const events: { type: string; value: string; rev: string }[] = [];
      const seen = new Promise<void>((resolve) => {
        watcher.on('put', (kv) => events.push({ type: 'put', value: kv.value.toString(), rev: kv.mod_revision }));
        watcher.on('delete', (kv) => {
          events.push({ type: 'delete', value: '', rev: kv.mod_revision });
          resolve();
        });
      });
      const put = await perMember[writerIndex]!.put('watched').value('v');
      const del = await perMember[writerIndex]!.delete().key('watched');
      await within(5000, 'watch events', seen);
      expect(events).toEqual([
        { type: 'put', value: 'v', rev: put.header.revision },
        { type: 'delete', value: '', rev: del.header.revision },
      ]);
    } finally {
      await watcher.cancel();
    }
  });

  it('a lease keeps its key while kept alive and deletes it when revoked', async () => {
    const lease = perMember[1]!.lease(5, { autoKeepAlive: true });
    await lease.put('leased').value('x');
    const renewed = await lease.keepaliveOnce();
    expect(Number(renewed.TTL)).toBe(5);
    expect(await client.get('leased').string()).toBe('x');
    await lease.revoke();
    expect(await client.get('leased').string()).toBeNull();
  });

  it('a read at a compacted revision fails with etcd\'s error', async () => {
    const first = await client.put('compacted').value('1');
    const second = await client.put('compacted').value('2');
    const rev = Number(first.header.revision);
    expect(await perMember[0]!.get('compacted').revision(rev).string()).toBe('1');
    await cluster.members[0]!.compact(Number(second.header.revision));
    await expect(perMember[2]!.get('compacted').revision(rev).string()).rejects.toThrow(
      'etcdserver: mvcc: required revision has been compacted',
    );
    expect(await perMember[2]!.get('compacted').string()).toBe('2');
  });

  it('its lock (a try-lock) refuses a second holder until the first releases', async () => {
    const first = await perMember[0]!.lock('mutex').ttl(30).acquire();
    await expect(perMember[1]!.lock('mutex').ttl(30).acquire()).rejects.toBeInstanceOf(EtcdLockFailedError);
    await first.release();
    const second = await perMember[2]!.lock('mutex').ttl(30).acquire();
    await second.release();
  });

  it('its election: the first campaigner leads, the second takes over when it resigns', async () => {
    const election = perMember[0]!.election('leader-election', 30);
    const other = perMember[1]!.election('leader-election', 30);
    const a = election.campaign('a');
    await within(10_000, 'first campaign', a.wait());
    expect(await other.leader()).toBe('a');
    const b = other.campaign('b');
    let bElected = false;
    b.on('elected', () => {
      bElected = true;
    });
    await a.proclaim('a2');
    expect(await other.leader()).toBe('a2');
    expect(bElected).toBe(false);
    await a.resign();
    await within(10_000, 'second campaign', b.wait());
    expect(await election.leader()).toBe('b');
    await b.resign();
  });
});
