/**
 * Moving a cluster from etcd to pontoon-kv: a real etcd 3.4 cluster (Debian's etcd-server) is
 * written to (puts, deletes, a multi-op txn, leases with keys, a revoked lease, a compaction),
 * `etcdctl snapshot save` takes its snapshot, `pontoon-kv snapshot status` prints what
 * `etcdctl snapshot status` prints for it, and `pontoon-kv snapshot restore` builds three
 * members from it with etcdctl's restore flags. Started, that cluster answers etcdctl as the etcd
 * cluster does: every kept revision, the compaction error below it, HashKV, leases with their
 * keys, a watch replaying history, and the next write's revision.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PONTOON_KV_BIN,
  etcdBinary,
  etcdctlOutput,
  freePort,
  parseEtcdctlJson,
  runEtcdctl,
  startEtcdCluster,
  startPontoonKv,
  type EtcdCluster,
} from '../src/testing/index.js';

const LONG = 300_000;

let etcd: EtcdCluster;
let dir: string;
const members: ChildProcess[] = [];
let pontoon: string[] = [];

const ctl = etcdctlOutput;

/** etcdctl with `input` on its stdin (a txn), synchronously. */
function ctlInput(endpoints: readonly string[], args: string[], input: string): string {
  const r = spawnSync(etcdBinary('etcdctl'), [`--endpoints=${endpoints.join(',')}`, ...args], { input, encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function command(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(PONTOON_KV_BIN, args, { cwd: dir });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.once('exit', (code) => resolve({ code, out, err }));
  });
}

/** What `etcdctl watch` prints from `rev` within `ms`. */
function watchFor(endpoint: string, rev: number, ms: number): Promise<string> {
  const child = spawn(etcdBinary('etcdctl'), [`--endpoints=${endpoint}`, 'watch', '--prefix', '', `--rev=${rev}`], { env: { ...process.env, ETCDCTL_API: '3' } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.resume();
  return new Promise((resolve) => {
    setTimeout(() => {
      child.once('exit', () => resolve(out));
      child.kill('SIGTERM');
    }, ms);
  });
}

/** The parts of etcdctl's JSON that are the data's: the header's ids and term dropped. */
function data(json: string): unknown {
  const parsed = parseEtcdctlJson(json) as { header?: { revision?: unknown } } & Record<string, unknown>;
  const { header, ...rest } = parsed;
  return { revision: header?.revision, ...rest };
}

describe('etcd snapshot restored into pontoon-kv', () => {
  let revision = 0;
  let leases: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snapshot-restore-'));
    etcd = await startEtcdCluster({ size: 3 });
    const e = etcd.endpoints;
    await ctl(e, ['put', 'a', '1']);
    await ctl(e, ['put', 'b', '2']);
    await ctl(e, ['put', 'a', '3']);
    await ctl(e, ['del', 'b']);
    const grant = async (ttl: number): Promise<string> => (await ctl(e, ['lease', 'grant', String(ttl)])).split(' ')[1]!;
    leases = [await grant(600), await grant(900)];
    const doomed = await grant(300);
    await ctl(e, ['put', `--lease=${leases[0]}`, 'svc/one', 'one']);
    await ctl(e, ['put', `--lease=${leases[0]}`, 'svc/two', 'two']);
    await ctl(e, ['put', `--lease=${leases[1]}`, 'lock/x', 'held']);
    ctlInput(e, ['txn'], 'value("a") = "3"\n\nput t/1 x\nput t/2 y\ndel a\n\nput nope 1\n\n');
    await ctl(e, ['put', 'a', 'again']);
    await ctl(e, ['put', `--lease=${doomed}`, 'tmp', 'gone']);
    await ctl(e, ['lease', 'revoke', doomed]);
    await ctl(e, ['compact', '8']);
    await ctl(e, ['put', 'svc/one', 'one-v2', '--ignore-lease']);
    await ctl(e, ['del', 't/', '--prefix']);
    revision = (parseEtcdctlJson(await ctl(e, ['put', 'z', 'last', '-w', 'json'])) as { header: { revision: number } }).header.revision;

    const file = path.join(dir, 'etcd.db');
    await ctl([e[0]!], ['snapshot', 'save', file]);
    const peers = await Promise.all([0, 1, 2].map(async () => `http://127.0.0.1:${await freePort()}`));
    const clients = await Promise.all([0, 1, 2].map(async () => `http://127.0.0.1:${await freePort()}`));
    const initialCluster = peers.map((p, i) => `p${i}=${p}`).join(',');
    for (let i = 0; i < 3; i++) {
      const r = await command(['snapshot', 'restore', file, `--name=p${i}`, `--data-dir=${path.join(dir, `p${i}.etcd`)}`,
        `--initial-cluster=${initialCluster}`, '--initial-cluster-token=moved', `--initial-advertise-peer-urls=${peers[i]}`]);
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
      const ours = await command(['snapshot', 'status', path.join(dir, 'etcd.db'), '-w', w]);
      expect(ours.code, ours.err).toBe(0);
      expect(ours.out).toBe(await ctl(etcd.endpoints, ['snapshot', 'status', path.join(dir, 'etcd.db'), '-w', w]));
    }
  }, LONG);

  it('every member answers every kept revision, the compaction and HashKV as etcd does', async () => {
    for (let i = 0; i < 3; i++) {
      const ours = [pontoon[i]!];
      const theirs = [etcd.endpoints[i]!];
      for (let rev = 9; rev <= revision; rev++) {
        const args = ['get', '', '--prefix', `--rev=${rev}`, '-w', 'json'];
        expect(data(await ctl(ours, args)), `revision ${rev}`).toEqual(data(await ctl(theirs, args)));
      }
      const below = await Promise.all([ours, theirs].map((eps) => runEtcdctl(eps, ['get', 'a', '--rev=7'])));
      expect(below[0]!.exitCode).toBe(1);
      expect(below[0]!.stderr.trim().split('\n').at(-1)).toBe(below[1]!.stderr.trim().split('\n').at(-1));
      type HashKV = [{ HashKV: { hash: number; compact_revision: number; header: { revision: number } } }];
      const [ourHash] = parseEtcdctlJson(await ctl(ours, ['endpoint', 'hashkv', '-w', 'json'])) as HashKV;
      const [theirHash] = parseEtcdctlJson(await ctl(theirs, ['endpoint', 'hashkv', '-w', 'json'])) as HashKV;
      expect([ourHash.HashKV.hash, ourHash.HashKV.compact_revision, ourHash.HashKV.header.revision]).toEqual([
        theirHash.HashKV.hash,
        theirHash.HashKV.compact_revision,
        revision,
      ]);
    }
  }, LONG);

  it('keeps the leases with their TTLs and keys, and replays history to a watch', async () => {
    // etcd lists by expiry on its leader and in map order elsewhere: the same lines, in some order.
    const lines = (out: string): string[] => out.trim().split('\n').sort();
    expect(lines(await ctl(pontoon, ['lease', 'list']))).toEqual(lines(await ctl(etcd.endpoints, ['lease', 'list'])));
    for (const id of leases) {
      const granted = (out: string): unknown => {
        const j = parseEtcdctlJson(out) as { ttl: number; 'granted-ttl': number; keys?: string[] };
        // etcd lists a lease's keys from a Go map: in no set order.
        return { grantedTTL: j['granted-ttl'], keys: [...(j.keys ?? [])].sort(), live: j.ttl > 0 };
      };
      const args = ['lease', 'timetolive', id, '--keys', '-w', 'json'];
      expect(granted(await ctl(pontoon, args))).toEqual(granted(await ctl(etcd.endpoints, args)));
    }
    const [ours, theirs] = await Promise.all([watchFor(pontoon[1]!, 9, 3_000), watchFor(etcd.endpoints[1]!, 9, 3_000)]);
    expect(ours).toContain('PUT\nz\nlast\n');
    expect(ours).toBe(theirs);
  }, LONG);

  it('goes on from etcd\'s revision', async () => {
    const put = async (eps: readonly string[]): Promise<number> =>
      (parseEtcdctlJson(await ctl(eps, ['put', 'after/move', 'yes', '-w', 'json'])) as { header: { revision: number } }).header.revision;
    expect(await put(pontoon)).toBe(revision + 1);
    expect(await put(etcd.endpoints)).toBe(revision + 1);
  }, LONG);
});
