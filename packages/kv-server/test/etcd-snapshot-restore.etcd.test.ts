/**
 * Moving a cluster from etcd to pontoon-kv: a real etcd 3.4 cluster (Debian's etcd-server) is
 * written to (support/snapshot-history.ts: puts, deletes, a multi-op txn, leases with keys, a
 * revoked lease, a compaction), `etcdctl snapshot save` takes its snapshot, `pontoon-kv snapshot
 * status` prints what `etcdctl snapshot status` prints for it, and `pontoon-kv snapshot restore`
 * builds three members from it with etcdctl's restore flags. Started, that cluster answers
 * etcdctl as the etcd cluster does: every kept revision, the compaction error below it, HashKV,
 * leases with their keys, a watch replaying history, and the next write's revision.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdctlOutput, freePort, startEtcdCluster, startPontoonKv, type EtcdCluster } from '../src/testing/index.js';
import { type WrittenHistory, expectSameLeasesAndWatch, expectSameNextRevision, expectSameRevisions, pontoonKvCommand, writeHistory } from './support/snapshot-history.js';

const LONG = 300_000;

let etcd: EtcdCluster;
let dir: string;
let history: WrittenHistory;
const members: ChildProcess[] = [];
let pontoon: string[] = [];

describe('etcd snapshot restored into pontoon-kv', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snapshot-restore-'));
    etcd = await startEtcdCluster({ size: 3 });
    history = await writeHistory(etcd.endpoints);
    const file = path.join(dir, 'etcd.db');
    await etcdctlOutput([etcd.endpoints[0]!], ['snapshot', 'save', file]);
    const peers = await Promise.all([0, 1, 2].map(async () => `http://127.0.0.1:${await freePort()}`));
    const clients = await Promise.all([0, 1, 2].map(async () => `http://127.0.0.1:${await freePort()}`));
    const initialCluster = peers.map((p, i) => `p${i}=${p}`).join(',');
    for (let i = 0; i < 3; i++) {
      const r = await pontoonKvCommand(['snapshot', 'restore', file, `--name=p${i}`, `--data-dir=${path.join(dir, `p${i}.etcd`)}`,
        `--initial-cluster=${initialCluster}`, '--initial-cluster-token=moved', `--initial-advertise-peer-urls=${peers[i]}`], dir);
      if (r.code !== 0) throw new Error(`restore p${i} exited ${r.code}: ${r.err}`);
    }
    const started = await Promise.all(
      [0, 1, 2].map((i) =>
        startPontoonKv(
          [`--name=p${i}`, `--data-dir=${path.join(dir, `p${i}.etcd`)}`, `--listen-client-urls=${clients[i]}`, `--advertise-client-urls=${clients[i]}`,
            `--listen-peer-urls=${peers[i]}`, `--initial-advertise-peer-urls=${peers[i]}`, `--initial-cluster=${initialCluster}`, '--initial-cluster-token=moved'],
          { cwd: dir, readyTimeoutMs: 120_000 },
        ),
      ),
    );
    members.push(...started.map((s) => s.process));
    pontoon = clients;
  }, LONG);

  afterAll(async () => {
    await Promise.all(members.map((m) => (m.exitCode !== null ? undefined : new Promise((r) => { m.once('exit', r); m.kill('SIGTERM'); }))));
    await etcd?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }, LONG);

  it('snapshot status prints what etcdctl prints, in every format', async () => {
    for (const w of ['json', 'table', 'fields', 'simple']) {
      const ours = await pontoonKvCommand(['snapshot', 'status', path.join(dir, 'etcd.db'), '-w', w], dir);
      expect(ours.code, ours.err).toBe(0);
      expect(ours.out).toBe(await etcdctlOutput(etcd.endpoints, ['snapshot', 'status', path.join(dir, 'etcd.db'), '-w', w]));
    }
  }, LONG);

  it('every member answers every kept revision, the compaction and HashKV as etcd does', async () => {
    for (let i = 0; i < 3; i++) await expectSameRevisions(pontoon[i]!, etcd.endpoints[i]!, history);
  }, LONG);

  it('keeps the leases with their TTLs and keys, and replays history to a watch', async () => {
    await expectSameLeasesAndWatch(pontoon, etcd.endpoints, history);
  }, LONG);

  it('goes on from etcd\'s revision', async () => {
    await expectSameNextRevision(pontoon, etcd.endpoints, history);
  }, LONG);
});
