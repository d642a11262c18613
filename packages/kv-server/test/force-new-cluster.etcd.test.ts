/**
 * `--force-new-cluster`, etcd's disaster recovery, through the command: a 3-member cluster loses
 * two members for good; the third is restarted on its data with --force-new-cluster and comes
 * up as a one-member cluster that leads, keeps the data, takes writes, and grows again with
 * `etcdctl member add` and a member started with `--initial-cluster-state existing`.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdBinary, freePort, parseEtcdctlJson, runEtcdctl, startPontoonKv, startPontoonKvCluster, type PontoonKvCluster } from '../src/testing/index.js';

const LONG = 300_000;

let cluster: PontoonKvCluster;

async function ctl(endpoints: readonly string[], args: string[]): Promise<string> {
  const r = await runEtcdctl(endpoints, args, { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
}

describe('--force-new-cluster', () => {
  beforeAll(async () => {
    etcdBinary('etcdctl');
    cluster = await startPontoonKvCluster({ size: 3 });
  }, LONG);
  afterAll(async () => {
    await cluster?.stop();
  }, LONG);

  it('brings back one member of a lost cluster with its data, then adds a member', async () => {
    for (let i = 0; i < 10; i++) await ctl([cluster.endpoints[i % 3]!], ['put', `kept/${i}`, `v${i}`]);
    const before = (parseEtcdctlJson(await ctl(cluster.endpoints, ['get', 'kept/9', '-w', 'json'])) as { header: { revision: number } }).header.revision;
    // Every member stops; members 1 and 2 never come back.
    for (const i of [0, 1, 2]) expect(await cluster.stopMember(i)).toEqual({ code: 0, signal: null });

    const survivor = cluster.members[0]!;
    const forced = await startPontoonKv([...survivor.flags, '--force-new-cluster'], { cwd: cluster.dir, readyTimeoutMs: 120_000 });
    const joinedClient = `http://127.0.0.1:${await freePort()}`;
    const joinedPeer = `http://127.0.0.1:${await freePort()}`;
    let joined: Awaited<ReturnType<typeof startPontoonKv>> | undefined;
    try {
      expect(forced.log()).toContain('forcing restart member');
      const list = await ctl([survivor.clientUrl], ['member', 'list']);
      expect(list.trim().split('\n')).toHaveLength(1);
      expect(list).toContain(`, started, ${survivor.name}, ${survivor.peerUrl}, ${survivor.clientUrl}, false`);
      type Status = Array<{ Status: { leader: string; header: { member_id: string; revision: number } } }>;
      const [status] = parseEtcdctlJson(await ctl([survivor.clientUrl], ['endpoint', 'status', '-w', 'json'])) as Status;
      expect(String(status!.Status.leader)).toBe(String(status!.Status.header.member_id));
      expect(status!.Status.header.revision).toBe(before);
      expect(await ctl([survivor.clientUrl], ['get', 'kept/', '--prefix', '--keys-only'])).toBe(
        Array.from({ length: 10 }, (_, i) => `kept/${i}\n\n`).sort().join(''),
      );
      expect(await ctl([survivor.clientUrl], ['put', 'after/force', 'yes'])).toBe('OK\n');

      // It grows again as any cluster does.
      const added = await ctl([survivor.clientUrl], ['member', 'add', 'grown', `--peer-urls=${joinedPeer}`]);
      expect(added).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
      joined = await startPontoonKv(
        ['--name=grown', `--data-dir=${path.join(cluster.dir, 'grown.etcd')}`, `--listen-client-urls=${joinedClient}`,
          `--advertise-client-urls=${joinedClient}`, `--listen-peer-urls=${joinedPeer}`, `--initial-advertise-peer-urls=${joinedPeer}`,
          `--initial-cluster=${survivor.name}=${survivor.peerUrl},grown=${joinedPeer}`, `--initial-cluster-token=${cluster.clusterToken}`,
          '--initial-cluster-state=existing'],
        { cwd: cluster.dir, readyTimeoutMs: 120_000 },
      );
      expect(await ctl([joinedClient], ['get', 'kept/3', '--print-value-only'])).toBe('v3\n');
      expect(await ctl([joinedClient], ['get', 'after/force', '--print-value-only'])).toBe('yes\n');
      const grown = await ctl([survivor.clientUrl, joinedClient], ['member', 'list']);
      expect(grown.trim().split('\n')).toHaveLength(2);
      expect(grown).toContain(`, started, grown, ${joinedPeer}, ${joinedClient}, false`);
      // Two voters now: a write needs both, and both have it.
      await ctl([joinedClient], ['put', 'after/grow', 'two']);
      expect(await ctl([survivor.clientUrl], ['get', 'after/grow', '--print-value-only'])).toBe('two\n');
    } finally {
      for (const p of [joined?.process, forced.process]) {
        if (p === undefined || p.exitCode !== null) continue;
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await exited;
      }
    }
  }, LONG);
});
