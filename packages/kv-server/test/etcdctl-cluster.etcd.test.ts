/**
 * etcdctl 3.4 (Debian's etcd-client) against three pontoon-kv processes started with etcd's
 * flags: KV, txn, compaction, watch, leases, lock, elect, member list, endpoint status, health
 * and hashkv, and snapshot save, status and restore into a new cluster.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  etcdBinary,
  etcdctlOutput,
  freePort,
  parseEtcdctlJson,
  runEtcdctl,
  startPontoonKv,
  startPontoonKvCluster,
  type PontoonKvCluster,
} from '../src/testing/index.js';

const LONG = 300_000;

let cluster: PontoonKvCluster;

/** etcdctl against every member; fails the test on a non-zero exit. */
function ctl(args: string[], endpoints: readonly string[] = cluster.endpoints): Promise<string> {
  return etcdctlOutput(endpoints, args);
}

/** A long-running etcdctl (watch, lock, elect): its output as it comes, and a way to stop it. */
function ctlStream(args: string[], endpoints: readonly string[]): { child: ChildProcess; output: () => string; stop: () => void } {
  const child = spawn(etcdBinary('etcdctl'), [`--endpoints=${endpoints.join(',')}`, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.resume();
  return { child, output: () => out, stop: () => child.kill('SIGTERM') };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('etcdctl against a 3-member pontoon-kv', () => {
  beforeAll(async () => {
    etcdBinary('etcdctl');
    cluster = await startPontoonKvCluster({ size: 3 });
  }, LONG);
  afterAll(async () => {
    await cluster?.stop();
  }, LONG);

  it('put and get: prefix, from-key, rev, limit, sort, keys-only, -w json and fields', async () => {
    const [a, b, c] = cluster.endpoints.map((e) => [e]);
    expect(await ctl(['put', 'k/a', '1'], a)).toBe('OK\n');
    await ctl(['put', 'k/b', '2'], b);
    await ctl(['put', 'k/c', '3'], c);
    await ctl(['put', 'k/a', '4'], b);
    expect(await ctl(['get', 'k/', '--prefix'], c)).toBe('k/a\n4\nk/b\n2\nk/c\n3\n');
    expect(await ctl(['get', 'k/b', '--from-key', '--keys-only'], a)).toBe('k/b\n\nk/c\n\n');
    const json = parseEtcdctlJson(await ctl(['get', 'k/a', '-w', 'json'], a)) as {
      header: { revision: number };
      kvs: Array<{ key: string; value: string; version: number; create_revision: number; mod_revision: number }>;
      count: number;
    };
    expect(json.count).toBe(1);
    expect(Buffer.from(json.kvs[0]!.key, 'base64').toString()).toBe('k/a');
    expect(Buffer.from(json.kvs[0]!.value, 'base64').toString()).toBe('4');
    expect(json.kvs[0]!.version).toBe(2);
    const firstRev = json.kvs[0]!.create_revision;
    expect(await ctl(['get', 'k/a', `--rev=${firstRev}`, '--print-value-only'], b)).toBe('1\n');
    expect(await ctl(['get', 'k/', '--prefix', '--limit=2', '--keys-only'], c)).toBe('k/a\n\nk/b\n\n');
    expect(await ctl(['get', 'k/', '--prefix', '--sort-by=VALUE', '--order=DESCEND', '--print-value-only'], a)).toBe('4\n3\n2\n');
    const fields = await ctl(['get', 'k/c', '-w', 'fields'], b);
    expect(fields).toContain('"Key" : "k/c"');
    expect(fields).toContain('"Value" : "3"');
    expect(fields).toMatch(/"ClusterID" : \d+/);
  }, LONG);

  it('del, txn and compaction', async () => {
    await ctl(['put', 'd/1', 'x']);
    await ctl(['put', 'd/2', 'y']);
    expect(await ctl(['del', 'd/', '--prefix'])).toBe('2\n');
    await ctl(['put', 't/key', 'old']);
    const txn = spawn(etcdBinary('etcdctl'), [`--endpoints=${cluster.endpoints[1]}`, 'txn'], { env: { ...process.env, ETCDCTL_API: '3' } });
    let out = '';
    txn.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    txn.stdin.end('value("t/key") = "old"\n\nput t/key new\n\nput t/other failed\n\n');
    await new Promise((r) => txn.once('exit', r));
    expect(out).toBe('SUCCESS\n\nOK\n');
    expect(await ctl(['get', 't/key', '--print-value-only'])).toBe('new\n');
    const rev = (parseEtcdctlJson(await ctl(['get', 't/key', '-w', 'json'])) as { header: { revision: number } }).header.revision;
    expect(await ctl(['compaction', String(rev - 1)])).toBe(`compacted revision ${rev - 1}\n`);
    const below = await runEtcdctl(cluster.endpoints, ['get', 't/key', `--rev=${rev - 2}`]);
    expect(below.exitCode).not.toBe(0);
    expect(below.stderr).toContain('required revision has been compacted');
  }, LONG);

  it('watch: prefix, from a revision, with prev-kv, on another member than the writer', async () => {
    const start = (parseEtcdctlJson(await ctl(['put', 'w/a', '1', '-w', 'json'])) as { header: { revision: number } }).header.revision;
    await ctl(['put', 'w/b', '2'], [cluster.endpoints[0]!]);
    const watch = ctlStream(['watch', 'w/', '--prefix', `--rev=${start}`, '--prev-kv'], [cluster.endpoints[2]!]);
    try {
      await until('the watch to replay history', () => watch.output().includes('w/b\n2\n'));
      await ctl(['put', 'w/a', '3'], [cluster.endpoints[1]!]);
      await until('the new event', () => watch.output().includes('w/a\n1\nw/a\n3\n'));
      expect(watch.output()).toBe('PUT\nw/a\n1\nPUT\nw/b\n2\nPUT\nw/a\n1\nw/a\n3\n');
    } finally {
      watch.stop();
    }
  }, LONG);

  it('leases: grant, keep-alive, timetolive, list, revoke', async () => {
    const granted = await ctl(['lease', 'grant', '30'], [cluster.endpoints[1]!]);
    const id = /lease ([0-9a-f]+) granted with TTL\(30s\)/.exec(granted)?.[1];
    expect(id).toBeDefined();
    await ctl(['put', 'l/key', 'v', `--lease=${id}`], [cluster.endpoints[2]!]);
    const ttl = await ctl(['lease', 'timetolive', id!, '--keys'], [cluster.endpoints[0]!]);
    expect(ttl).toMatch(new RegExp(`lease ${id} granted with TTL\\(30s\\), remaining\\(\\d+s\\), attached keys\\(\\[l/key\\]\\)`));
    expect(await ctl(['lease', 'list'])).toContain(id!);
    const once = await ctl(['lease', 'keep-alive', '--once', id!], [cluster.endpoints[2]!]);
    expect(once).toMatch(new RegExp(`lease ${id} keepalived with TTL\\(30\\)`));
    expect(await ctl(['lease', 'revoke', id!], [cluster.endpoints[1]!])).toBe(`lease ${id} revoked\n`);
    expect(await ctl(['get', 'l/key'])).toBe('');
  }, LONG);

  it('lock and elect', async () => {
    const holder = ctlStream(['lock', 'mutex'], [cluster.endpoints[0]!]);
    try {
      await until('the lock', () => /^mutex\/[0-9a-f]+\n/.test(holder.output()));
      const waiter = ctlStream(['lock', 'mutex'], [cluster.endpoints[1]!]);
      try {
        await new Promise((r) => setTimeout(r, 1000));
        expect(waiter.output()).toBe('');
        holder.stop();
        await until('the second holder', () => /^mutex\/[0-9a-f]+\n/.test(waiter.output()));
      } finally {
        waiter.stop();
      }
    } finally {
      holder.stop();
    }
    const candidate = ctlStream(['elect', 'leader-race', 'p1'], [cluster.endpoints[2]!]);
    try {
      await until('the campaign', () => /^leader-race\/[0-9a-f]+\np1\n/.test(candidate.output()));
      const observer = ctlStream(['elect', '--listen', 'leader-race'], [cluster.endpoints[0]!]);
      try {
        await until('the observer to see p1 lead', () => /^leader-race\/[0-9a-f]+\np1\n/.test(observer.output()));
      } finally {
        observer.stop();
      }
    } finally {
      candidate.stop();
    }
  }, LONG);

  it('member list, endpoint status, health and hashkv, with http:// endpoints and --cluster', async () => {
    const list = await ctl(['member', 'list']);
    for (const m of cluster.members) expect(list).toContain(`, started, ${m.name}, ${m.peerUrl}, ${m.clientUrl}, false`);
    // etcdctl dials each endpoint as written: the requests carry `:authority: http://...`.
    expect(cluster.endpoints.every((e) => e.startsWith('http://'))).toBe(true);
    type Status = Array<{ Endpoint: string; Status: { leader: string; header: { member_id: string } } }>;
    const status = parseEtcdctlJson(await ctl(['endpoint', 'status', '-w', 'json'])) as Status;
    expect(status.map((s) => s.Endpoint)).toEqual(cluster.endpoints);
    expect(new Set(status.map((s) => String(s.Status.leader))).size).toBe(1);
    expect(new Set(status.map((s) => String(s.Status.header.member_id))).size).toBe(3);
    const viaCluster = parseEtcdctlJson(await ctl(['endpoint', 'status', '--cluster', '-w', 'json'], [cluster.endpoints[1]!])) as Status;
    expect(viaCluster.map((s) => s.Endpoint).sort()).toEqual([...cluster.endpoints].sort());
    // etcdctl prints endpoint health on stderr.
    for (const args of [['endpoint', 'health'], ['endpoint', 'health', '--cluster']]) {
      const health = await runEtcdctl(args.length === 2 ? cluster.endpoints : [cluster.endpoints[2]!], args, { timeoutMs: 60_000 });
      expect(health.exitCode, health.stderr).toBe(0);
      expect((health.stdout + health.stderr).split('\n').filter((l) => l.includes('is healthy'))).toHaveLength(3);
    }
    type Hashes = Array<{ Endpoint: string; HashKV: { hash: number } }>;
    const hashes = parseEtcdctlJson(await ctl(['endpoint', 'hashkv', '-w', 'json'])) as Hashes;
    expect(hashes.map((h) => h.Endpoint)).toEqual(cluster.endpoints);
    expect(new Set(hashes.map((h) => h.HashKV.hash)).size).toBe(1);
    const clusterHashes = parseEtcdctlJson(await ctl(['endpoint', 'hashkv', '--cluster', '-w', 'json'], [cluster.endpoints[0]!])) as Hashes;
    expect(clusterHashes.map((h) => h.Endpoint).sort()).toEqual([...cluster.endpoints].sort());
    expect(new Set(clusterHashes.map((h) => h.HashKV.hash))).toEqual(new Set(hashes.map((h) => h.HashKV.hash)));
    const table = await ctl(['endpoint', 'status', '-w', 'table']);
    for (const e of cluster.endpoints) expect(table).toContain(`| ${e} |`);
    const defrag = await ctl(['defrag', '--cluster'], [cluster.endpoints[0]!]);
    for (const e of cluster.endpoints) expect(defrag).toContain(`Finished defragmenting etcd member[${e}]`);
  }, LONG);

  it('move-leader with http:// endpoints', async () => {
    type Status = Array<{ Status: { leader: string; header: { member_id: string } } }>;
    const before = parseEtcdctlJson(await ctl(['endpoint', 'status', '-w', 'json'])) as Status;
    const leader = String(before[0]!.Status.leader);
    const target = before.map((s) => String(s.Status.header.member_id)).find((id) => id !== leader)!;
    const hex = BigInt(target).toString(16);
    const moved = await ctl(['move-leader', hex]);
    expect(moved).toMatch(new RegExp(`Leadership transferred from ${BigInt(leader).toString(16)} to ${hex}`));
    // Followers learn of the new leader by its first heartbeat: ask until they all name it.
    let leaders: string[] = [];
    const deadline = Date.now() + 30_000;
    do {
      const after = parseEtcdctlJson(await ctl(['endpoint', 'status', '-w', 'json'])) as Status;
      leaders = after.map((s) => String(s.Status.leader));
    } while (leaders.some((l) => l !== target) && Date.now() < deadline);
    expect(leaders).toEqual([target, target, target]);
  }, LONG);

  it('member add, the new member joins with --initial-cluster-state existing, member remove', async () => {
    const peer = `http://127.0.0.1:${await freePort()}`;
    const client = `http://127.0.0.1:${await freePort()}`;
    // With --strict-reconfig-check (on, as in etcd), an add is refused as "unhealthy cluster"
    // until every voter has been in contact for more than 5 s, as real etcd refuses one made
    // within 5 s of its start: when the tests before run fast, the cluster is younger than that.
    let r = await runEtcdctl(cluster.endpoints, ['member', 'add', 'm3', `--peer-urls=${peer}`], { timeoutMs: 60_000 });
    for (const deadline = Date.now() + 30_000; r.exitCode !== 0 && r.stderr.includes('etcdserver: unhealthy cluster') && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      r = await runEtcdctl(cluster.endpoints, ['member', 'add', 'm3', `--peer-urls=${peer}`], { timeoutMs: 60_000 });
    }
    expect(r.exitCode, r.stderr).toBe(0);
    const added = r.stdout;
    // etcdctl prints the id with %16x: an id under 16 hex digits comes space-padded.
    const id = /Member +([0-9a-f]+) added to cluster/.exec(added)?.[1];
    expect(id, added).toBeDefined();
    expect(added).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
    const joined = await startPontoonKv(
      ['--name=m3', `--data-dir=${path.join(cluster.dir, 'm3.etcd')}`, `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=${cluster.initialCluster},m3=${peer}`,
        `--initial-cluster-token=${cluster.clusterToken}`, '--initial-cluster-state=existing'],
      { cwd: cluster.dir, readyTimeoutMs: 120_000 },
    );
    try {
      await ctl(['put', 'joined/key', 'v']);
      expect(await ctl(['get', 'joined/key', '--print-value-only'], [client])).toBe('v\n');
      const list = await ctl(['member', 'list']);
      expect(list).toContain(`${id}, started, m3, ${peer}, ${client}, false`);
      expect(await ctl(['member', 'remove', id!])).toMatch(new RegExp(`Member +${id} removed from cluster`));
      expect(await ctl(['member', 'list'])).not.toContain(id!);
    } finally {
      joined.process.kill('SIGTERM');
      await new Promise((r) => joined.process.once('exit', r));
    }
  }, LONG);

  it('snapshot save, status, and restore into a new cluster that serves the same data', async () => {
    await ctl(['put', 'snap/key', 'kept']);
    const file = path.join(cluster.dir, 'backup.db');
    const saved = await ctl(['snapshot', 'save', file], [cluster.endpoints[0]!]);
    expect(saved).toContain(`Snapshot saved at ${file}`);
    const revision = (parseEtcdctlJson(await ctl(['get', 'snap/key', '-w', 'json'])) as { header: { revision: number } }).header.revision;
    // The file is etcd's backend format: etcdctl's own `snapshot status` reads it, and
    // `pontoon-kv snapshot status` prints the same.
    const { PONTOON_KV_BIN: bin } = await import('../src/testing/index.js');
    const status = await new Promise<string>((resolve, reject) => {
      const p = spawn(bin, ['snapshot', 'status', file, '-w', 'json']);
      let out = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      p.once('exit', (c) => (c === 0 ? resolve(out) : reject(new Error(`snapshot status exited ${c}`))));
    });
    expect(status).toBe(await ctl(['snapshot', 'status', file, '-w', 'json']));
    const figures = JSON.parse(status) as { hash: number; revision: number; totalKey: number; totalSize: number };
    expect(figures.revision).toBe(revision);
    expect(figures.totalSize).toBe(fs.statSync(file).size - 32);
    expect(figures.totalKey).toBeGreaterThanOrEqual(1);

    const client = `http://127.0.0.1:${await freePort()}`;
    const peer = `http://127.0.0.1:${await freePort()}`;
    const dataDir = path.join(cluster.dir, 'restored.etcd');
    const { PONTOON_KV_BIN } = await import('../src/testing/index.js');
    const restore = spawn(PONTOON_KV_BIN, [
      'snapshot', 'restore', file, `--data-dir=${dataDir}`, '--name=r0', `--initial-cluster=r0=${peer}`,
      '--initial-cluster-token=restored', `--initial-advertise-peer-urls=${peer}`,
    ]);
    let restoreErr = '';
    restore.stderr.setEncoding('utf8').on('data', (d: string) => (restoreErr += d));
    const code = await new Promise((r) => restore.once('exit', r));
    expect(code, restoreErr).toBe(0);
    const restored = await startPontoonKv(
      ['--name=r0', `--data-dir=${dataDir}`, `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=r0=${peer}`, '--initial-cluster-token=restored'],
      { cwd: cluster.dir, readyTimeoutMs: 120_000 },
    );
    try {
      expect(await ctl(['get', 'snap/key', '--print-value-only'], [client])).toBe('kept\n');
      const after = parseEtcdctlJson(await ctl(['get', 'snap/key', '-w', 'json'], [client])) as { header: { revision: number } };
      expect(after.header.revision).toBe(revision);
      const list = await ctl(['member', 'list'], [client]);
      expect(list.trim().split('\n')).toHaveLength(1);
      expect(list).toContain(`, started, r0, ${peer}, ${client}, false`);
    } finally {
      restored.process.kill('SIGTERM');
      await new Promise((r) => restored.process.once('exit', r));
    }
    expect(fs.existsSync(dataDir)).toBe(true);
  }, LONG);
});
