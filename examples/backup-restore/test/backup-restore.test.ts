import { Etcd3 } from 'etcd3';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PontoonKvCluster, startPontoonKvCluster } from 'pontoon-kv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRestored } from '../check-restored.js';
import { type RestoredCluster, restoreCluster } from '../restore-cluster.js';
import { saveSnapshot } from '../snapshot-save.js';
import { WriteLoad } from '../write-load.js';

/** A snapshot of a live 3-member pontoon-kv cluster under write load, restored into a new one. */

const LONG = 240_000;
let dir: string;
let source: PontoonKvCluster | undefined;
let restored: RestoredCluster | undefined;
const clients: Etcd3[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backup-restore-test-'));
  await mkdir(join(dir, 'source'));
  await mkdir(join(dir, 'restored'));
  source = await startPontoonKvCluster({ clusterToken: 'backup-source', dir: join(dir, 'source') });
}, LONG);

afterAll(async () => {
  for (const c of clients) c.close();
  await restored?.stop();
  await source?.stop();
  await rm(dir, { recursive: true, force: true });
}, LONG);

function client(endpoints: readonly string[]): Etcd3 {
  const c = new Etcd3({ hosts: [...endpoints] });
  clients.push(c);
  return c;
}

describe('backup and restore of a 3-member pontoon-kv cluster', () => {
  it('keeps every put acknowledged before the save, and the new cluster takes writes', async () => {
    const load = new WriteLoad(client(source!.endpoints), 3);
    await load.waitForAcknowledged(60);
    const ackedBeforeSave = load.acknowledged();
    const file = join(dir, 'backup.db');
    // From a member that is not necessarily the leader, while the writers go on.
    const saved = await saveSnapshot(source!.endpoints[2]!, file);
    await load.stop();
    expect(saved).toBeGreaterThan(0);
    expect(load.acknowledged().size).toBeGreaterThan(ackedBeforeSave.size);
    await source!.stop();

    restored = await restoreCluster(file, join(dir, 'restored'), 'backup-restored');
    const check = await checkRestored(client(restored.endpoints), ackedBeforeSave, load.sent());
    expect(check.missing).toEqual([]);
    expect(check.changed).toEqual([]);
    expect(check.unknown).toEqual([]);
    expect(check.restoredKeys).toBeGreaterThanOrEqual(ackedBeforeSave.size);

    // A new cluster: the new members only, and every one of them serves the restored data.
    const members = await client(restored.endpoints).cluster.memberList({});
    expect(members.members.map((m) => m.name).sort()).toEqual(['restored-0', 'restored-1', 'restored-2']);
    const [firstKey, firstValue] = [...ackedBeforeSave][0]!;
    for (const endpoint of restored.endpoints) expect(await client([endpoint]).get(firstKey).string()).toBe(firstValue);

    // It takes writes, and a write on one member is read on the others.
    await client([restored.endpoints[0]!]).put('after-restore').value('new');
    for (const endpoint of restored.endpoints) expect(await client([endpoint]).get('after-restore').string()).toBe('new');
  }, LONG);
});
