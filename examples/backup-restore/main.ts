/**
 * The example, run end to end with its output: `npx -y pnpm@10 --filter @pontoon/example-backup-restore start`.
 *
 * Starts a 3-member pontoon-kv cluster, puts keys from four writers, saves a snapshot from one
 * member while they keep writing, restores it into a new 3-member cluster, checks that every
 * put acknowledged before the save started is there with its value, and writes to the new
 * cluster. Everything runs on free ports of 127.0.0.1 in a temporary directory, removed at the end.
 */
import { Etcd3 } from 'etcd3';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPontoonKvCluster } from 'pontoon-kv/testing';
import { checkRestored } from './check-restored.js';
import { restoreCluster, type RestoredCluster } from './restore-cluster.js';
import { saveSnapshot } from './snapshot-save.js';
import { WriteLoad } from './write-load.js';

const started = Date.now();
const log = (line: string): void => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${line}`);

const dir = await mkdtemp(join(tmpdir(), 'pontoon-backup-restore-'));
let restored: RestoredCluster | undefined;
await mkdir(join(dir, 'source'));
await mkdir(join(dir, 'restored'));
const source = await startPontoonKvCluster({ clusterToken: 'backup-source', dir: join(dir, 'source') });
const sourceClient = new Etcd3({ hosts: [...source.endpoints] });
try {
  log(`source cluster at ${source.endpoints.join(', ')}`);
  const load = new WriteLoad(sourceClient, 4);
  await load.waitForAcknowledged(200);
  const ackedBeforeSave = load.acknowledged();
  log(`${ackedBeforeSave.size} puts acknowledged; saving a snapshot from ${source.endpoints[0]} while the writers go on`);
  const file = join(dir, 'backup.db');
  const bytes = await saveSnapshot(source.endpoints[0]!, file);
  const ackedAfterSave = load.acknowledged().size;
  await load.stop();
  log(`saved ${bytes} bytes to ${file}; ${ackedAfterSave} puts acknowledged by the end of the save`);
  sourceClient.close();
  await source.stop();
  log('source cluster stopped');

  log('restoring the snapshot into three new data directories, then starting the new members');
  restored = await restoreCluster(file, join(dir, 'restored'), 'backup-restored');
  for (const command of restored.restoreCommands) log(command.replaceAll(dir, '$DIR'));
  log(`restored cluster at ${restored.endpoints.join(', ')}`);
  const client = new Etcd3({ hosts: [...restored.endpoints] });
  try {
    const check = await checkRestored(client, ackedBeforeSave, load.sent());
    log(`${check.restoredKeys} keys restored; of the ${ackedBeforeSave.size} acknowledged before the save: ${check.missing.length} missing, ${check.changed.length} changed; ${check.unknown.length} never written`);
    await client.put('after-restore').value('written to the new cluster');
    log(`after-restore = "${await client.get('after-restore').string()}"`);
  } finally {
    client.close();
  }
} finally {
  sourceClient.close();
  await restored?.stop();
  await source.stop();
  await rm(dir, { recursive: true, force: true });
}
