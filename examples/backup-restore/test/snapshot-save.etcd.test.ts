import { Etcd3 } from 'etcd3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EtcdCluster, parseEtcdctlJson, runEtcdctl, startEtcdCluster } from 'pontoon-kv/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { saveSnapshot } from '../snapshot-save.js';

/** The save step against a real etcd 3.4: etcdctl reads the file it writes as one of its own. */

const LONG = 120_000;
let cluster: EtcdCluster;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapshot-save-etcd-'));
  cluster = await startEtcdCluster({ size: 1 });
}, LONG);

afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('saveSnapshot on etcd 3.4 writes a file etcdctl snapshot status accepts, at the store revision', async () => {
  const client = new Etcd3({ hosts: [...cluster.endpoints] });
  let revision = '';
  try {
    for (let i = 0; i < 20; i++) revision = (await client.put(`k${i}`).value('v').exec()).header.revision;
  } finally {
    client.close();
  }
  const file = join(dir, 'backup.db');
  const bytes = await saveSnapshot(cluster.endpoints[0]!, file);
  expect(bytes).toBeGreaterThan(0);
  const status = await runEtcdctl([], ['snapshot', 'status', file, '-w', 'json']);
  expect(status.exitCode, status.stderr).toBe(0);
  expect((parseEtcdctlJson(status.stdout) as { revision: number }).revision).toBe(Number(revision));
}, LONG);
