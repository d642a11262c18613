/**
 * `etcdctl make-mirror` (a Get at a revision, then a Watch from the next one, replayed as puts
 * and deletes on the destination) between a real etcd 3.4 and pontoon-kv, both ways: the live
 * way to move a cluster without stopping writers. Keys written before the mirror starts and
 * while it runs, and deletes, arrive; the destination ends with the source's keys and values.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdBinary, etcdctlOutput, startEtcdCluster, startPontoonKvCluster, type EtcdCluster, type PontoonKvCluster } from '../src/testing/index.js';

const LONG = 300_000;

let etcd: EtcdCluster;
let pontoon: PontoonKvCluster;
const mirrors: ChildProcess[] = [];

/** The keys and values under `prefix` as etcdctl prints them. */
async function contents(endpoints: readonly string[], prefix: string): Promise<string> {
  return etcdctlOutput(endpoints, ['get', prefix, '--prefix']);
}

async function mirror(from: readonly string[], to: readonly string[], prefix: string): Promise<void> {
  for (let i = 1; i <= 3; i++) await etcdctlOutput(from, ['put', `${prefix}before/${i}`, `v${i}`]);
  const host = new URL(to[0]!).host;
  const child = spawn(etcdBinary('etcdctl'), [`--endpoints=${from[0]}`, 'make-mirror', `--prefix=${prefix}`, host], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: 'ignore',
  });
  mirrors.push(child);
  // The first key is there: the mirror has synced the past and is watching.
  for (const deadline = Date.now() + 60_000; !(await contents(to, `${prefix}before/3`)).includes('v3'); ) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('make-mirror did not copy the existing keys');
    await new Promise((r) => setTimeout(r, 200));
  }
  for (let i = 1; i <= 3; i++) await etcdctlOutput(from, ['put', `${prefix}live/${i}`, `w${i}`]);
  await etcdctlOutput(from, ['put', `${prefix}before/1`, 'changed']);
  await etcdctlOutput(from, ['del', `${prefix}before/2`]);
  const expected = await contents(from, prefix);
  for (const deadline = Date.now() + 60_000; (await contents(to, prefix)) !== expected; ) {
    if (Date.now() > deadline) throw new Error(`the mirror did not catch up:\n${await contents(to, prefix)}\nexpected:\n${expected}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  expect(expected.split('\n').filter((l) => l.startsWith(prefix))).toEqual([
    `${prefix}before/1`, `${prefix}before/3`, `${prefix}live/1`, `${prefix}live/2`, `${prefix}live/3`,
  ]);
}

describe('etcdctl make-mirror between etcd and pontoon-kv', () => {
  beforeAll(async () => {
    [etcd, pontoon] = await Promise.all([startEtcdCluster({ size: 1 }), startPontoonKvCluster({ size: 3 })]);
  }, LONG);
  afterAll(async () => {
    for (const m of mirrors) if (m.exitCode === null) m.kill('SIGKILL');
    await Promise.all([etcd?.stop(), pontoon?.stop()]);
  }, LONG);

  it('mirrors etcd into pontoon-kv, past keys then live writes and deletes', async () => {
    await mirror(etcd.endpoints, pontoon.endpoints, 'to-pontoon/');
  }, LONG);

  it('mirrors pontoon-kv into etcd the same way', async () => {
    await mirror(pontoon.endpoints, etcd.endpoints, 'to-etcd/');
  }, LONG);
});
