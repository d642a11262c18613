/**
 * The history the snapshot move tests write on one cluster and compare on the other, through
 * etcdctl: puts, deletes, a txn of two puts and a delete, leases with keys, a revoked lease, a
 * compaction at 8, and writes after it. Every comparison leaves out what differs by design
 * (cluster and member ids, Raft terms) and what etcd itself does not fix (the order of a lease's
 * keys, of `lease list` on a member that does not lead).
 */
import { spawn, spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { PONTOON_KV_BIN, etcdBinary, etcdctlOutput, parseEtcdctlJson, runEtcdctl } from '../../src/testing/index.js';

const ctl = etcdctlOutput;

/** The compaction the history makes. */
export const COMPACTED_AT = 8;

/** What the history left: the store revision and the two leases that live on. */
export interface WrittenHistory {
  readonly revision: number;
  readonly leases: readonly string[];
}

export async function writeHistory(endpoints: readonly string[]): Promise<WrittenHistory> {
  const e = endpoints;
  await ctl(e, ['put', 'a', '1']);
  await ctl(e, ['put', 'b', '2']);
  await ctl(e, ['put', 'a', '3']);
  await ctl(e, ['del', 'b']);
  const grant = async (ttl: number): Promise<string> => (await ctl(e, ['lease', 'grant', String(ttl)])).split(' ')[1]!;
  const leases = [await grant(600), await grant(900)];
  const doomed = await grant(300);
  await ctl(e, ['put', `--lease=${leases[0]}`, 'svc/one', 'one']);
  await ctl(e, ['put', `--lease=${leases[0]}`, 'svc/two', 'two']);
  await ctl(e, ['put', `--lease=${leases[1]}`, 'lock/x', 'held']);
  const txn = spawnSync(etcdBinary('etcdctl'), [`--endpoints=${e.join(',')}`, 'txn'], {
    input: 'value("a") = "3"\n\nput t/1 x\nput t/2 y\ndel a\n\nput nope 1\n\n',
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
    timeout: 60_000,
  });
  if (txn.status !== 0) throw new Error(`etcdctl txn exited ${txn.status}: ${txn.stderr}`);
  await ctl(e, ['put', 'a', 'again']);
  await ctl(e, ['put', `--lease=${doomed}`, 'tmp', 'gone']);
  await ctl(e, ['lease', 'revoke', doomed]);
  await ctl(e, ['compact', String(COMPACTED_AT)]);
  await ctl(e, ['put', 'svc/one', 'one-v2', '--ignore-lease']);
  await ctl(e, ['del', 't/', '--prefix']);
  const revision = (parseEtcdctlJson(await ctl(e, ['put', 'z', 'last', '-w', 'json'])) as { header: { revision: number } }).header.revision;
  return { revision, leases };
}

/** The parts of etcdctl's JSON that are the data's: the header's ids and term dropped. */
function data(json: string): unknown {
  const { header, ...rest } = parseEtcdctlJson(json) as { header?: { revision?: unknown } } & Record<string, unknown>;
  return { revision: header?.revision, ...rest };
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

/**
 * Expects the member at `ours` to answer as the one at `theirs` for the history: every kept
 * revision, the error below the compaction, HashKV and the compaction.
 */
export async function expectSameRevisions(ours: string, theirs: string, h: WrittenHistory): Promise<void> {
  for (let rev = COMPACTED_AT + 1; rev <= h.revision; rev++) {
    const args = ['get', '', '--prefix', `--rev=${rev}`, '-w', 'json'];
    expect(data(await ctl([ours], args)), `revision ${rev}`).toEqual(data(await ctl([theirs], args)));
  }
  const below = await Promise.all([ours, theirs].map((ep) => runEtcdctl([ep], ['get', 'a', `--rev=${COMPACTED_AT - 1}`])));
  expect(below[0]!.exitCode).toBe(1);
  expect(below[0]!.stderr.trim().split('\n').at(-1)).toBe(below[1]!.stderr.trim().split('\n').at(-1));
  type HashKV = [{ HashKV: { hash: number; compact_revision: number; header: { revision: number } } }];
  const hashOf = async (ep: string): Promise<number[]> => {
    const [{ HashKV: r }] = parseEtcdctlJson(await ctl([ep], ['endpoint', 'hashkv', '-w', 'json'])) as HashKV;
    return [r.hash, r.compact_revision, r.header.revision];
  };
  expect(await hashOf(ours)).toEqual(await hashOf(theirs));
  expect((await hashOf(ours))[2]).toBe(h.revision);
}

/** Expects the same leases (granted TTLs, keys) and the same watch replay from revision 9. */
export async function expectSameLeasesAndWatch(ours: readonly string[], theirs: readonly string[], h: WrittenHistory): Promise<void> {
  // etcd lists by expiry on its leader and in map order elsewhere: the same lines, in some order.
  const lines = (out: string): string[] => out.trim().split('\n').sort();
  expect(lines(await ctl(ours, ['lease', 'list']))).toEqual(lines(await ctl(theirs, ['lease', 'list'])));
  for (const id of h.leases) {
    const granted = (out: string): unknown => {
      const j = parseEtcdctlJson(out) as { ttl: number; 'granted-ttl': number; keys?: string[] };
      // etcd lists a lease's keys from a Go map: in no set order.
      return { grantedTTL: j['granted-ttl'], keys: [...(j.keys ?? [])].sort(), live: j.ttl > 0 };
    };
    const args = ['lease', 'timetolive', id, '--keys', '-w', 'json'];
    expect(granted(await ctl(ours, args))).toEqual(granted(await ctl(theirs, args)));
  }
  const [a, b] = await Promise.all([watchFor(ours[0]!, COMPACTED_AT + 1, 3_000), watchFor(theirs[0]!, COMPACTED_AT + 1, 3_000)]);
  expect(a).toContain('PUT\nz\nlast\n');
  expect(a).toBe(b);
}

/** Both take the next write at the history's revision + 1. */
export async function expectSameNextRevision(ours: readonly string[], theirs: readonly string[], h: WrittenHistory): Promise<void> {
  const put = async (eps: readonly string[]): Promise<number> =>
    (parseEtcdctlJson(await ctl(eps, ['put', 'after/move', 'yes', '-w', 'json'])) as { header: { revision: number } }).header.revision;
  expect(await put(ours)).toBe(h.revision + 1);
  expect(await put(theirs)).toBe(h.revision + 1);
}

/** Runs the pontoon-kv command in `cwd`: its exit code and output. */
export function pontoonKvCommand(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(PONTOON_KV_BIN, args, { cwd });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.once('exit', (code) => resolve({ code, out, err }));
  });
}
