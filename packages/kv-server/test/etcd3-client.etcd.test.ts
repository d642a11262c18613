import { Etcd3, EtcdLockFailedError } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdCluster, startEtcdCluster } from '../src/testing/index.js';

/**
 * The etcd3 npm client (a dev dependency, for the server's tests to come) works against the
 * reference etcd 3.4 with the @grpc/grpc-js it resolves to in this workspace: KV, txn, watch,
 * leases and its lock, across a 3-member cluster.
 */

let cluster: EtcdCluster;
let client: Etcd3;

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
  client = new Etcd3({ hosts: [...cluster.endpoints] });
});

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

/** Rejects after `ms` so that a missing event fails the test instead of hanging it. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('etcd3 npm client against etcd 3.4', () => {
  it('put, get, prefix get, delete', async () => {
    await client.put('app/a').value('1');
    await client.put('app/b').value('2');
    expect(await client.get('app/a').string()).toBe('1');
    expect(await client.getAll().prefix('app/').strings()).toEqual({ 'app/a': '1', 'app/b': '2' });
    await client.delete().key('app/a');
    expect(await client.get('app/a').string()).toBeNull();
  });

  it('a compare-and-swap transaction takes the branch the comparison picks', async () => {
    await client.put('cas').value('old');
    const swapped = await client.if('cas', 'Value', '==', 'old').then(client.put('cas').value('new')).commit();
    expect(swapped.succeeded).toBe(true);
    const again = await client.if('cas', 'Value', '==', 'old').then(client.put('cas').value('newer')).commit();
    expect(again.succeeded).toBe(false);
    expect(await client.get('cas').string()).toBe('new');
  });

  it('a watcher sees a put and a delete in order, with revisions', async () => {
    const watcher = await client.watch().key('watched').create();
    try {
      const events: { type: string; value: string; rev: string }[] = [];
      const seen = new Promise<void>((resolve) => {
        watcher.on('put', (kv) => {
          events.push({ type: 'put', value: kv.value.toString(), rev: kv.mod_revision });
        });
        watcher.on('delete', (kv) => {
          events.push({ type: 'delete', value: kv.value.toString(), rev: kv.mod_revision });
          resolve();
        });
      });
      const put = await client.put('watched').value('v1').exec();
      const del = await client.delete().key('watched').exec();
      await within(10_000, 'watch events', seen);
      expect(events).toEqual([
        { type: 'put', value: 'v1', rev: put.header.revision },
        { type: 'delete', value: '', rev: del.header.revision },
      ]);
    } finally {
      await watcher.cancel();
    }
  });

  it('a lease keeps its key until revoked', async () => {
    const lease = client.lease(30, { autoKeepAlive: false });
    try {
      await lease.put('leased').value('x');
      const kept = await lease.keepaliveOnce();
      expect(kept.ID).toBe(await lease.grant());
      expect(Number(kept.TTL)).toBeGreaterThan(0);
      expect(await client.get('leased').string()).toBe('x');
    } finally {
      await lease.revoke();
    }
    expect(await client.get('leased').string()).toBeNull();
  });

  it('its lock (a try-lock) refuses a second holder until the first releases', async () => {
    const first = await client.lock('mutex').ttl(30).acquire();
    await expect(client.lock('mutex').ttl(30).acquire()).rejects.toBeInstanceOf(EtcdLockFailedError);
    await first.release();
    const second = await client.lock('mutex').ttl(30).acquire();
    await second.release();
  });

  it('its election: the first campaigner leads, the second takes over when it resigns', async () => {
    const election = client.election('leader-election', 30);
    const a = election.campaign('a');
    await within(10_000, 'first campaign', a.wait());
    expect(await election.leader()).toBe('a');
    const b = election.campaign('b');
    // Campaign.wait() only hears a later 'elected', so listen from the start: b may be
    // elected while a.resign() is still being answered.
    let bElected = false;
    const bElection = new Promise<void>((resolve) => {
      b.on('elected', () => {
        bElected = true;
        resolve();
      });
    });
    await a.proclaim('a2');
    expect(await election.leader()).toBe('a2');
    expect(bElected).toBe(false);
    await a.resign();
    await within(10_000, 'second campaign', bElection);
    expect(await election.leader()).toBe('b');
    await b.resign();
  });
});
