/**
 * Moving a cluster from pontoon-kv to etcd: Maintenance.Snapshot streams etcd's backend format,
 * so a 3-member pontoon-kv written to (support/snapshot-history.ts) and saved with `etcdctl
 * snapshot save` gives a file that `etcdctl snapshot status` reads (and `pontoon-kv snapshot
 * status` prints the same for), that `etcdctl snapshot restore` turns into a real etcd 3.4 data
 * directory, and from which that etcd serves what pontoon-kv served: every kept revision, the
 * compaction, HashKV, leases with their keys, a watch replaying history, the next revision.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdBinary, etcdctlOutput, freePort, isHealthy, startPontoonKvCluster, type PontoonKvCluster } from '../src/testing/index.js';
import { type WrittenHistory, expectSameLeasesAndWatch, expectSameNextRevision, expectSameRevisions, pontoonKvCommand, writeHistory } from './support/snapshot-history.js';

const LONG = 300_000;

let pontoon: PontoonKvCluster;
let dir: string;
let history: WrittenHistory;
let etcd: ChildProcess | undefined;
let etcdClient: string;

describe('pontoon-kv snapshot restored into etcd', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapshot-to-etcd-'));
    pontoon = await startPontoonKvCluster({ size: 3 });
    history = await writeHistory(pontoon.endpoints);
    const file = path.join(dir, 'pontoon.db');
    await etcdctlOutput([pontoon.endpoints[1]!], ['snapshot', 'save', file]);
    const peer = `http://127.0.0.1:${await freePort()}`;
    etcdClient = `http://127.0.0.1:${await freePort()}`;
    const dataDir = path.join(dir, 'e0.etcd');
    await etcdctlOutput([], ['snapshot', 'restore', file, '--name=e0', `--data-dir=${dataDir}`, `--initial-cluster=e0=${peer}`, `--initial-advertise-peer-urls=${peer}`]);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD')));
    const child = spawn(etcdBinary('etcd'), [
      '--name=e0', `--data-dir=${dataDir}`, `--listen-client-urls=${etcdClient}`, `--advertise-client-urls=${etcdClient}`,
      `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=e0=${peer}`,
    ], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    etcd = child;
    let log = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    for (const deadline = Date.now() + 60_000; !(await isHealthy(etcdClient)); ) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`etcd on the restored snapshot did not come up:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, LONG);

  afterAll(async () => {
    if (etcd !== undefined && etcd.exitCode === null) await new Promise((r) => { etcd!.once('exit', r); etcd!.kill('SIGTERM'); });
    await pontoon?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }, LONG);

  it('etcdctl snapshot status reads the file, and pontoon-kv snapshot status prints the same', async () => {
    for (const w of ['json', 'table']) {
      const theirs = await etcdctlOutput([], ['snapshot', 'status', path.join(dir, 'pontoon.db'), '-w', w]);
      const ours = await pontoonKvCommand(['snapshot', 'status', path.join(dir, 'pontoon.db'), '-w', w], dir);
      expect(ours.code, ours.err).toBe(0);
      expect(ours.out).toBe(theirs);
    }
    expect(JSON.parse(await etcdctlOutput([], ['snapshot', 'status', path.join(dir, 'pontoon.db'), '-w', 'json']))).toMatchObject({ revision: history.revision });
  }, LONG);

  it('the restored etcd answers every kept revision, the compaction and HashKV as pontoon-kv does', async () => {
    await expectSameRevisions(pontoon.endpoints[0]!, etcdClient, history);
  }, LONG);

  it('keeps the leases with their TTLs and keys, and replays history to a watch', async () => {
    await expectSameLeasesAndWatch(pontoon.endpoints, [etcdClient], history);
  }, LONG);

  it('goes on from pontoon-kv\'s revision', async () => {
    await expectSameNextRevision(pontoon.endpoints, [etcdClient], history);
  }, LONG);
});
