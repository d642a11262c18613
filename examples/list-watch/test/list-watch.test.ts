import { CompactedError, type KvMember } from '@pontoon/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incrementRestartsConcurrently } from '../counter-writers.js';
import { type EmbeddedCluster, startEmbeddedCluster } from '../embedded-cluster.js';
import { Informer, type InformerEvent } from '../informer.js';
import { createObject, updateObject } from '../optimistic-update.js';
import { newPod, POD_KIND, type Pod } from '../pod.js';
import { decodeObject, kindPrefix, objectKey } from '../registry.js';

/** List-watch and optimistic updates on the embedded API, three members in this process. */

const LONG = 120_000;
let cluster: EmbeddedCluster;
let m1: KvMember;
let m2: KvMember;
let m3: KvMember;

beforeAll(async () => {
  cluster = await startEmbeddedCluster();
  [m1, m2, m3] = cluster.members as [KvMember, KvMember, KvMember];
}, LONG);

afterAll(async () => {
  await cluster?.close();
});

/** The informer's cache holds exactly the objects of a linearizable list, at the same versions. */
async function expectCacheEqualsStore(informer: Informer<Pod>, prefix: string): Promise<void> {
  const listed = await m1.get(prefix, { prefix: true });
  const store = new Map(listed.kvs.map((kv) => [Buffer.from(kv.key).toString(), { object: decodeObject<Pod>(kv.value), resourceVersion: kv.modRevision }]));
  expect(new Map(informer.cache)).toEqual(store);
}

describe('list-watch on the embedded @pontoon/kv API', () => {
  it('writers on different members racing with compare-and-swap on mod_revision lose no update', async () => {
    const key = objectKey('counters', { namespace: 'default', name: 'race' });
    expect(await createObject(m1, key, newPod('default', 'race', 'busybox'))).toBe(true);
    expect(await createObject(m2, key, newPod('default', 'race', 'other'))).toBe(false);
    const run = await incrementRestartsConcurrently(cluster.members, key, 6, 5);
    expect(run.increments).toBe(30);
    expect(run.attempts).toBeGreaterThanOrEqual(30);
    const stored = (await m3.get(key)).kvs[0]!;
    expect(decodeObject<Pod>(stored.value).status.restarts).toBe(30);
    // One put per increment after the create: no write was made twice or lost.
    expect(stored.version).toBe(31);
    expect(decodeObject<Pod>(stored.value).spec.image).toBe('busybox');
  }, LONG);

  it('an informer follows the store, relists after its revision is compacted, and carries on', async () => {
    const kind = POD_KIND;
    const prefix = kindPrefix(kind);
    const key = (ns: string, name: string): string => objectKey(kind, { namespace: ns, name });
    for (const name of ['a', 'b', 'c']) await createObject(m1, key('default', name), newPod('default', name, 'img:1'));
    const events: InformerEvent<Pod>[] = [];
    const lists: (CompactedError | undefined)[] = [];
    const informer = new Informer<Pod>(m3, prefix, { onEvent: (e) => events.push(e), onList: (r) => lists.push(r) });
    await informer.start();
    try {
      expect([...informer.cache.keys()].sort()).toEqual([key('default', 'a'), key('default', 'b'), key('default', 'c')]);

      // Changes while it watches, from other members, some concurrent on one object.
      await Promise.all([
        incrementRestartsConcurrently([m1, m2], key('default', 'a'), 3, 3),
        m2.delete(key('default', 'b')),
        createObject(m1, key('kube-system', 'd'), newPod('kube-system', 'd', 'img:2')),
      ]);
      const watched = await m1.get(prefix, { prefix: true, countOnly: true });
      await informer.waitForResourceVersion(watched.header.revision, 30_000);
      await expectCacheEqualsStore(informer, prefix);
      expect(events.filter((e) => e.key === key('default', 'a') && e.type === 'modified')).toHaveLength(9);
      expect(informer.relistCount).toBe(0);

      // The connection drops; the store moves on and is compacted past the informer's revision.
      informer.disconnect();
      const seen = informer.resourceVersion;
      await m1.delete(key('default', 'c'));
      await updateObject<Pod>(m2, key('kube-system', 'd'), (pod) => ({ ...pod, spec: { image: 'img:3' } }));
      await createObject(m1, key('default', 'e'), newPod('default', 'e', 'img:1'));
      const { header } = await m1.get(prefix, { prefix: true, countOnly: true });
      await m3.compact(header.revision);
      informer.reconnect();
      await informer.waitForResourceVersion(header.revision, 30_000);
      expect(informer.relistCount).toBe(1);
      const reason = lists.at(-1);
      expect(reason).toBeInstanceOf(CompactedError);
      expect(reason!.etcdMessage).toBe('etcdserver: mvcc: required revision has been compacted');
      expect(reason!.compactRevision).toBe(header.revision);
      expect(reason!.message).toContain(`requested ${seen + 1}`);
      await expectCacheEqualsStore(informer, prefix);
      expect(events.filter((e) => e.type === 'deleted').map((e) => e.key)).toEqual([key('default', 'b'), key('default', 'c')]);

      // After the relist it watches again from the list's revision.
      const last = await updateObject<Pod>(m1, key('default', 'e'), (pod) => ({ ...pod, status: { ...pod.status, phase: 'Running' } }));
      await informer.waitForResourceVersion(last.resourceVersion, 30_000);
      expect(informer.cache.get(key('default', 'e'))?.object.status.phase).toBe('Running');
      await expectCacheEqualsStore(informer, prefix);
      expect(informer.relistCount).toBe(1);
    } finally {
      await informer.stop();
    }
  }, LONG);
});
