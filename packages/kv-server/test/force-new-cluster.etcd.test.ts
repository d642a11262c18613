/**
 * `--force-new-cluster`, etcd's disaster recovery, through the command, beside a real etcd 3.4
 * put through the same: a 3-member cluster loses two members for good; the third is restarted
 * on its data with --force-new-cluster and comes up as a one-member cluster that leads, keeps
 * the data, takes writes, and grows again with `etcdctl member add` and a member started with
 * `--initial-cluster-state existing`. What etcdctl shows at each step is the same for both.
 */
import { type ChildProcess, spawn } from 'node:child_process';
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
  startPontoonKvCluster,
  type EtcdCluster,
  type PontoonKvCluster,
} from '../src/testing/index.js';

const LONG = 300_000;

let etcd: EtcdCluster;
let pontoon: PontoonKvCluster;
const started: ChildProcess[] = [];

const ctl = etcdctlOutput;

/** Starts `bin` with `flags` and waits until etcdctl finds the member at `client` healthy. */
async function startAndWait(bin: string, flags: readonly string[], client: string): Promise<{ log: () => string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD')));
  const child = spawn(bin, [...flags], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  for (const deadline = Date.now() + 120_000; ; ) {
    if (child.exitCode !== null) throw new Error(`${bin} exited (${child.exitCode}):\n${log}`);
    if ((await runEtcdctl([client], ['endpoint', 'health'], { timeoutMs: 20_000 })).exitCode === 0) return { log: () => log };
    if (Date.now() > deadline) throw new Error(`${bin} not healthy:\n${log}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Survivor {
  readonly bin: string;
  readonly name: string;
  readonly flags: readonly string[];
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dir: string;
  readonly token: string;
}

/** The disaster and the recovery on one cluster; what etcdctl showed, ids and ports replaced. */
async function recover(endpoints: readonly string[], stopAll: () => Promise<void>, s: Survivor): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  for (let i = 0; i < 10; i++) await ctl([endpoints[i % 3]!], ['put', `kept/${i}`, `v${i}`]);
  const revision = (json: string): number => (parseEtcdctlJson(json) as { header: { revision: number } }).header.revision;
  const before = revision(await ctl(endpoints, ['get', 'kept/9', '-w', 'json']));
  await stopAll();

  const forced = await startAndWait(s.bin, [...s.flags, '--force-new-cluster'], s.clientUrl);
  expect(forced.log()).toContain('forcing restart member');
  // Member ids lead each `member list` line.
  const bare = (text: string): string => text.replaceAll(s.clientUrl, 'CLIENT').replaceAll(s.peerUrl, 'PEER').replace(/^[0-9a-f]+(?=, )/gm, 'ID');
  seen['members after force'] = bare(await ctl([s.clientUrl], ['member', 'list']));
  type Status = Array<{ Status: { leader: string; header: { member_id: string; revision: number } } }>;
  const [status] = parseEtcdctlJson(await ctl([s.clientUrl], ['endpoint', 'status', '-w', 'json'])) as Status;
  seen['leads'] = String(status!.Status.leader) === String(status!.Status.header.member_id);
  seen['revision kept'] = status!.Status.header.revision - before;
  seen['keys'] = await ctl([s.clientUrl], ['get', 'kept/', '--prefix']);
  seen['write'] = await ctl([s.clientUrl], ['put', 'after/force', 'yes']);

  const client = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  // Ids aside (etcdctl pads them with %16x), and ETCD_INITIAL_CLUSTER in a fixed order: etcdctl
  // writes it in the order of the member ids, which are random.
  seen['member add'] = (await ctl([s.clientUrl], ['member', 'add', 'grown', `--peer-urls=${peer}`]))
    .replace(/Member +[0-9a-f]+ added to cluster +[0-9a-f]+/, 'Member ID added to cluster ID')
    .replaceAll(peer, 'NEWPEER')
    .replaceAll(s.peerUrl, 'PEER')
    .replace(/ETCD_INITIAL_CLUSTER="([^"]*)"/, (_m, list: string) => `ETCD_INITIAL_CLUSTER="${list.split(',').sort().join(',')}"`);
  await startAndWait(
    s.bin,
    ['--name=grown', `--data-dir=${path.join(s.dir, 'grown.etcd')}`, `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=${s.name}=${s.peerUrl},grown=${peer}`,
      `--initial-cluster-token=${s.token}`, '--initial-cluster-state=existing'],
    client,
  );
  seen['joined reads'] = await ctl([client], ['get', 'after/force', '--print-value-only']);
  // The new member's attributes are published just after it serves: ask until they show.
  let members = '';
  for (const deadline = Date.now() + 30_000; !members.includes(`, started, grown, `) && Date.now() < deadline; ) {
    members = await ctl([s.clientUrl], ['member', 'list']);
    if (!members.includes(', started, grown, ')) await new Promise((r) => setTimeout(r, 500));
  }
  seen['members after grow'] = bare(members).replaceAll(client, 'NEWCLIENT').replaceAll(peer, 'NEWPEER').split('\n').sort().join('\n');
  await ctl([client], ['put', 'after/grow', 'two']);
  seen['both have it'] = await ctl([s.clientUrl], ['get', 'after/grow', '--print-value-only']);
  return seen;
}

describe('--force-new-cluster', () => {
  beforeAll(async () => {
    etcdBinary('etcdctl');
    [etcd, pontoon] = await Promise.all([startEtcdCluster({ size: 3 }), startPontoonKvCluster({ size: 3 })]);
  }, LONG);
  afterAll(async () => {
    for (const child of started) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await Promise.all([etcd?.stop(), pontoon?.stop()]);
  }, LONG);

  it('brings back one member of a lost cluster with its data, then adds a member, as etcd does', async () => {
    const e = etcd.members[0]!;
    const expected = await recover(
      etcd.endpoints,
      async () => {
        for (const i of [0, 1, 2]) await etcd.stopMember(i);
      },
      { bin: etcdBinary('etcd'), name: e.name, flags: e.flags, clientUrl: e.clientUrl, peerUrl: e.peerUrl, dir: path.dirname(e.dataDir), token: etcd.clusterToken },
    );
    expect(expected['members after force']).toMatch(/^ID, started, m0, PEER, CLIENT, false\n$/);
    expect(expected['leads']).toBe(true);
    expect(expected['revision kept']).toBe(0);
    expect(expected['keys']).toBe(Array.from({ length: 10 }, (_, i) => `kept/${i}\nv${i}\n`).join(''));
    expect(expected['joined reads']).toBe('yes\n');
    expect(expected['members after grow']).toContain('ID, started, grown, NEWPEER, NEWCLIENT, false');
    expect(expected['both have it']).toBe('two\n');

    const p = pontoon.members[0]!;
    const ours = await recover(
      pontoon.endpoints,
      async () => {
        for (const i of [0, 1, 2]) expect(await pontoon.stopMember(i)).toEqual({ code: 0, signal: null });
      },
      { bin: PONTOON_KV_BIN, name: p.name, flags: p.flags, clientUrl: p.clientUrl, peerUrl: p.peerUrl, dir: pontoon.dir, token: pontoon.clusterToken },
    );
    expect(ours).toEqual(expected);
  }, LONG);
});
