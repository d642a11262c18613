/**
 * MemberPromote and etcd's learner readiness rule, through etcdctl on real processes: a learner
 * that has not caught up is refused with etcd's error (compared with a real etcd 3.4 refusing the
 * same), and once it runs and has caught up it is promoted. The promote goes to a follower, which
 * asks the leader for its replication progress over the peer port.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  etcdBinary,
  etcdctlOutput,
  freePort,
  parseEtcdctlJson,
  runEtcdctl,
  startEtcdCluster,
  startPontoonKv,
  startPontoonKvCluster,
  type EtcdCluster,
  type PontoonKvCluster,
} from '../src/testing/index.js';

const LONG = 300_000;

let etcd: EtcdCluster;
let cluster: PontoonKvCluster;

/** etcdctl's refusal as it prints it (its last line: `Error: ...`). */
async function refusal(endpoints: readonly string[], args: string[]): Promise<string> {
  const r = await runEtcdctl(endpoints, args, { timeoutMs: 60_000 });
  expect(r.exitCode, r.stdout).not.toBe(0);
  return r.stderr.trim().split('\n').at(-1)!;
}

const ctl = etcdctlOutput;

/**
 * Adds a learner at `peer` through `endpoints`; its id in hex. etcd's strict reconfiguration
 * check refuses adds until every voter has been connected for 5 s: asked again until then.
 */
async function addLearner(endpoints: readonly string[], name: string, peer: string): Promise<string> {
  const args = ['member', 'add', name, '--learner', `--peer-urls=${peer}`];
  let r = await runEtcdctl(endpoints, args, { timeoutMs: 60_000 });
  for (const deadline = Date.now() + 60_000; r.exitCode !== 0 && r.stderr.includes('etcdserver: unhealthy cluster') && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    r = await runEtcdctl(endpoints, args, { timeoutMs: 60_000 });
  }
  if (r.exitCode !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  const added = r.stdout;
  const id = /Member +([0-9a-f]+) added to cluster/.exec(added)?.[1];
  expect(id, added).toBeDefined();
  return id!;
}

describe('MemberPromote: etcd\'s learner readiness', () => {
  beforeAll(async () => {
    etcdBinary('etcdctl');
    [etcd, cluster] = await Promise.all([startEtcdCluster({ size: 1 }), startPontoonKvCluster({ size: 3 })]);
  }, LONG);
  afterAll(async () => {
    await Promise.all([etcd?.stop(), cluster?.stop()]);
  }, LONG);

  it('refuses a learner that is behind with etcd\'s error, promotes it once it caught up', async () => {
    const etcdLearner = await addLearner(etcd.endpoints, 'learner', `http://127.0.0.1:${await freePort()}`);
    const expected = await refusal(etcd.endpoints, ['member', 'promote', etcdLearner]);
    expect(expected).toBe('Error: etcdserver: can only promote a learner member which is in sync with leader');

    type Status = Array<{ Endpoint: string; Status: { leader: string; header: { member_id: string } } }>;
    const status = parseEtcdctlJson(await ctl(cluster.endpoints, ['endpoint', 'status', '-w', 'json'])) as Status;
    const follower = [status.find((s) => String(s.Status.leader) !== String(s.Status.header.member_id))!.Endpoint];
    for (let i = 0; i < 20; i++) await ctl(follower, ['put', `before/${i}`, 'v']);

    const peer = `http://127.0.0.1:${await freePort()}`;
    const client = `http://127.0.0.1:${await freePort()}`;
    const id = await addLearner(follower, 'learner', peer);
    // Not started: its match index is 0.
    expect(await refusal(follower, ['member', 'promote', id])).toBe(expected);

    const learner = await startPontoonKv(
      ['--name=learner', `--data-dir=${path.join(cluster.dir, 'learner.etcd')}`, `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`, `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=${cluster.initialCluster},learner=${peer}`, `--initial-cluster-token=${cluster.clusterToken}`,
        '--initial-cluster-state=existing'],
      { cwd: cluster.dir, readyTimeoutMs: 120_000 },
    );
    try {
      // A learner serves serializable reads: it has the data once it caught up.
      const deadline = Date.now() + 60_000;
      let seen = '';
      while (seen !== 'v\n' && Date.now() < deadline) {
        seen = (await runEtcdctl([client], ['get', 'before/19', '--consistency=s', '--print-value-only'], { timeoutMs: 20_000 })).stdout;
        if (seen !== 'v\n') await new Promise((r) => setTimeout(r, 250));
      }
      expect(seen).toBe('v\n');
      // Caught up as far as the learner can tell; the leader learns its match index with its
      // next answer, so the promote may be refused once more before it goes through.
      let promoted = '';
      while (promoted === '' && Date.now() < deadline + 30_000) {
        const r = await runEtcdctl(follower, ['member', 'promote', id], { timeoutMs: 60_000 });
        if (r.exitCode === 0) promoted = r.stdout;
        else expect(r.stderr).toContain('can only promote a learner member which is in sync with leader');
      }
      expect(promoted).toMatch(new RegExp(`Member +${id} promoted in cluster`));
      const list = await ctl(cluster.endpoints, ['member', 'list']);
      expect(list).toContain(`${id}, started, learner, ${peer}, ${client}, false`);
      // A voter now: it serves linearizable reads.
      await ctl(cluster.endpoints, ['put', 'after', 'w']);
      expect(await ctl([client], ['get', 'after', '--print-value-only'])).toBe('w\n');
      expect(await refusal(follower, ['member', 'promote', id])).toBe('Error: etcdserver: can only promote a learner member');
    } finally {
      learner.process.kill('SIGTERM');
      await new Promise((r) => learner.process.once('exit', r));
    }
  }, LONG);
});
