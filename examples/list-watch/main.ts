/**
 * The example, run end to end with its output: `npx -y pnpm@10 --filter @pontoon/example-list-watch start`.
 *
 * Three @pontoon/kv members in this process. An informer lists and watches the pods; writers
 * race to update one pod with compare-and-swap; the informer's connection drops, the store
 * changes and is compacted past the informer's revision; on reconnecting the informer is told
 * its revision was compacted, lists again and carries on with a cache equal to the store.
 */
import { startEmbeddedCluster } from './embedded-cluster.js';
import { incrementRestartsConcurrently } from './counter-writers.js';
import { Informer } from './informer.js';
import { createObject, updateObject } from './optimistic-update.js';
import { newPod, POD_KIND, type Pod } from './pod.js';
import { decodeObject, kindPrefix, objectKey } from './registry.js';

const started = Date.now();
const log = (line: string): void => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${line}`);

const cluster = await startEmbeddedCluster();
const [m1, m2, m3] = cluster.members as [typeof cluster.members[0], typeof cluster.members[0], typeof cluster.members[0]];
const informer = new Informer<Pod>(m3, kindPrefix(POD_KIND), {
  onList: (reason) => log(reason === undefined ? 'informer: list' : `informer: watch failed with "${reason.etcdMessage}": list again`),
  onEvent: (e) => log(`informer: ${e.type.padEnd(8)} ${e.key} (resourceVersion ${e.resourceVersion}, restarts ${e.object.status.restarts})`),
});
try {
  const web = objectKey(POD_KIND, { namespace: 'default', name: 'web' });
  const db = objectKey(POD_KIND, { namespace: 'default', name: 'db' });
  const dns = objectKey(POD_KIND, { namespace: 'kube-system', name: 'dns' });
  await createObject(m1, web, newPod('default', 'web', 'nginx:1.27'));
  await createObject(m1, db, newPod('default', 'db', 'postgres:17'));
  await informer.start();
  log(`informer: listed ${informer.cache.size} pods at resourceVersion ${informer.resourceVersion}, watching from ${informer.resourceVersion + 1}`);
  await createObject(m2, dns, newPod('kube-system', 'dns', 'coredns:1.11'));

  const run = await incrementRestartsConcurrently([m1, m2], web, 4, 3);
  const after = decodeObject<Pod>((await m1.get(web)).kvs[0]!.value);
  log(`writers: ${run.increments} increments in ${run.attempts} transactions (${run.attempts - run.increments} conflicts retried); restarts = ${after.status.restarts}`);

  informer.disconnect();
  log(`informer: connection dropped at resourceVersion ${informer.resourceVersion}`);
  await m1.delete(db);
  await updateObject<Pod>(m2, dns, (pod) => ({ ...pod, status: { ...pod.status, phase: 'Running' } }));
  await createObject(m1, objectKey(POD_KIND, { namespace: 'default', name: 'cache' }), newPod('default', 'cache', 'redis:7'));
  const { header } = await m1.get(kindPrefix(POD_KIND), { prefix: true, countOnly: true });
  // Through the informer's member: once the call returns that member has applied the
  // compaction (another member could still be applying it, and serve the old revisions a moment).
  await m3.compact(header.revision);
  log(`meanwhile: db deleted, dns updated, cache created; compacted at revision ${header.revision}`);
  informer.reconnect();
  await informer.waitForResourceVersion(header.revision, 30_000);

  const store = await m1.get(kindPrefix(POD_KIND), { prefix: true });
  const equal =
    store.kvs.length === informer.cache.size &&
    store.kvs.every((kv) => informer.cache.get(Buffer.from(kv.key).toString())?.resourceVersion === kv.modRevision);
  log(`informer cache (${[...informer.cache.keys()].join(', ')}) equals the store: ${equal}`);

  // The informer carries on watching from the new list's revision.
  const last = await updateObject<Pod>(m2, web, (pod) => ({ ...pod, status: { ...pod.status, phase: 'Running' } }));
  await informer.waitForResourceVersion(last.resourceVersion, 30_000);
  log(`informer: web is ${informer.cache.get(web)?.object.status.phase} at resourceVersion ${informer.cache.get(web)?.resourceVersion}; relists: ${informer.relistCount}`);
} finally {
  await informer.stop().catch(() => undefined);
  await cluster.close();
}
