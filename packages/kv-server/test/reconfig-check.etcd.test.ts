/**
 * --strict-reconfig-check on real processes: one script of membership changes, run against a
 * real etcd 3.4 and against pontoon-kv, each answer compared with the table of what etcd 3.4.23
 * answered when the script was written (so both must agree with it and with each other). The
 * script covers a member added but never started, stopped members, and the flag turned off.
 * Waits are bounded; a stopped member is given a few seconds to be noticed (etcd notices a
 * broken stream at once, Pontoon's leader after an election timeout of silence).
 */
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ETCD_ERRORS } from '../src/etcd-errors.js';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import { HEALTH_INTERVAL_MS } from '../src/server/reconfig-check.js';
import { etcdBinary, freePort, startEtcdCluster, startPontoonKvCluster } from '../src/testing/index.js';
import { type CallOutcome, callUnary, grpcClient } from './support/grpc-call.js';

const LONG = 300_000;
const { Cluster: C, Maintenance: M } = loadEtcdProtos().services;

/** What the script needs of a cluster, whichever server runs it. */
interface Target {
  readonly endpoints: readonly string[];
  stopMember(index: number): Promise<unknown>;
  stop(): Promise<void>;
}

type Start = (size: 1 | 3, extraFlags: string[]) => Promise<Target>;

const TARGETS: ReadonlyArray<readonly [string, Start]> = [
  ['etcd 3.4', async (size, extraFlags) => startEtcdCluster({ size, extraFlags })],
  ['pontoon-kv', async (size, extraFlags) => startPontoonKvCluster({ size, extraFlags })],
];

const OK = 'ok';
const NOT_ENOUGH_STARTED = outcomeText(ETCD_ERRORS.MemberNotEnoughStarted);
const UNHEALTHY = outcomeText(ETCD_ERRORS.Unhealthy);

function outcomeText([code, details]: readonly [number, string]): string {
  return `${code} ${details}`;
}

function text(o: CallOutcome<unknown>): string {
  return o.ok ? OK : outcomeText([o.code, o.details]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Long enough for either server to notice a stopped member (default election timeout: 1 s). */
const NOTICE_STOP_MS = 3000;

let running: Target[] = [];
afterEach(async () => {
  await Promise.all(running.map((t) => t.stop()));
  running = [];
}, LONG);

async function start(startFn: Start, size: 1 | 3, extraFlags: string[] = []): Promise<{ target: Target; client: grpc.Client; ids: string[] }> {
  const target = await startFn(size, extraFlags);
  running.push(target);
  const client = grpcClient(target.endpoints[0]!);
  // Member ids in the order of the endpoints; each member's client URL shows once its
  // publication reached the member asked.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const list = await callUnary(client, C.MemberList, {});
    if (!list.ok) throw new Error(`member list: ${list.details}`);
    const ids = target.endpoints.map((e) => list.response.members.find((m) => m.clientURLs.includes(e))?.ID);
    if (ids.every((id) => id !== undefined)) return { target, client, ids: ids as string[] };
    if (Date.now() > deadline) throw new Error(`members without client URLs: ${JSON.stringify(list.response.members)}`);
    await sleep(200);
  }
}

/** Hands leadership from the leader to another member and waits until every member follows it. */
async function moveLeader(target: Target, ids: readonly string[]): Promise<void> {
  const clients = target.endpoints.map((e) => grpcClient(e));
  try {
    const leaderOf = async (i: number): Promise<string | undefined> => {
      const r = await callUnary(clients[i]!, M.Status, {});
      return r.ok ? String(r.response.leader) : undefined;
    };
    const leader = await leaderOf(0);
    const from = ids.indexOf(leader!);
    expect(from, `leader ${leader}`).toBeGreaterThanOrEqual(0);
    const to = ids[(from + 1) % ids.length]!;
    const moved = await callUnary(clients[from]!, M.MoveLeader, { targetID: to }, { timeoutMs: 30_000 });
    expect(moved.ok, moved.ok ? '' : moved.details).toBe(true);
    const deadline = Date.now() + 30_000;
    let leaders: Array<string | undefined> = [];
    do {
      leaders = await Promise.all(clients.map((_, i) => leaderOf(i)));
    } while (leaders.some((l) => l !== to) && Date.now() < deadline && (await sleep(100), true));
    expect(leaders).toEqual(ids.map(() => to));
  } finally {
    for (const c of clients) c.close();
  }
}

const peer = async (): Promise<string[]> => [`http://127.0.0.1:${await freePort()}`];

/** Three members: grow while healthy, then lose one member, then a second. */
async function threeMembers(startFn: Start): Promise<Record<string, string>> {
  const { target, client, ids } = await start(startFn, 3);
  const seen: Record<string, string> = {};
  const call = async (step: string, o: Promise<CallOutcome<unknown>>): Promise<CallOutcome<unknown>> => {
    const r = await o;
    seen[step] = text(r);
    return r;
  };
  // Both refuse any add for the first 5 s of their peers' contact: ask until that passes.
  let added: CallOutcome<{ member?: { ID: string } | null }> | undefined;
  const deadline = Date.now() + 60_000;
  do {
    if (added !== undefined) await sleep(500);
    added = await callUnary(client, C.MemberAdd, { peerURLs: await peer() });
  } while (!added.ok && added.details === ETCD_ERRORS.Unhealthy[1] && Date.now() < deadline);
  seen['add a voter, all running'] = text(added);
  if (!added.ok) return seen;
  const unstarted = added.response.member!.ID;
  await call('add a voter, one added not started', callUnary(client, C.MemberAdd, { peerURLs: await peer() }));
  await call('add a learner, one added not started', callUnary(client, C.MemberAdd, { peerURLs: await peer(), isLearner: true }));
  await call('remove the member not started', callUnary(client, C.MemberRemove, { ID: unstarted }));

  // etcd's peer streams outlive a change of leader; right after one, adds still pass.
  await moveLeader(target, ids);
  const learner = await call('add a learner after a leader change', callUnary(client, C.MemberAdd, { peerURLs: await peer(), isLearner: true }));
  if (learner.ok) await call('remove it', callUnary(client, C.MemberRemove, { ID: (learner.response as { member: { ID: string } }).member.ID }));

  await target.stopMember(2);
  await sleep(NOTICE_STOP_MS);
  await call('add a voter, one stopped', callUnary(client, C.MemberAdd, { peerURLs: await peer() }));
  await call('add a learner, one stopped', callUnary(client, C.MemberAdd, { peerURLs: await peer(), isLearner: true }));
  await call('remove another running member, one stopped', callUnary(client, C.MemberRemove, { ID: ids[1]! }));
  await call('remove the member asked, one stopped', callUnary(client, C.MemberRemove, { ID: ids[0]! }));
  await call('remove the stopped member', callUnary(client, C.MemberRemove, { ID: ids[2]! }));

  await target.stopMember(1);
  await sleep(NOTICE_STOP_MS);
  await call('add a voter, alone of two', callUnary(client, C.MemberAdd, { peerURLs: await peer() }));
  await call('remove the member asked, alone of two', callUnary(client, C.MemberRemove, { ID: ids[0]! }));
  client.close();
  return seen;
}

/** One member grown by a voter that never starts. */
async function oneMember(startFn: Start): Promise<Record<string, string>> {
  const { client, ids } = await start(startFn, 1);
  const seen: Record<string, string> = {};
  seen['add a voter to one member'] = text(await callUnary(client, C.MemberAdd, { peerURLs: await peer() }));
  seen['add another voter'] = text(await callUnary(client, C.MemberAdd, { peerURLs: await peer() }));
  seen['add a learner'] = text(await callUnary(client, C.MemberAdd, { peerURLs: await peer(), isLearner: true }));
  seen['remove the started member'] = text(await callUnary(client, C.MemberRemove, { ID: ids[0]! }));
  client.close();
  return seen;
}

/**
 * `strict`: --strict-reconfig-check as given; a learner in and out with a member stopped (a
 * change that keeps the quorum either way, so that the unchecked run can go on).
 */
async function withOneStopped(startFn: Start, strict: boolean): Promise<Record<string, string>> {
  const { target, client } = await start(startFn, 3, [`--strict-reconfig-check=${strict}`]);
  const seen: Record<string, string> = {};
  await target.stopMember(2);
  await sleep(Math.max(NOTICE_STOP_MS, HEALTH_INTERVAL_MS + 1000));
  const learner = await callUnary(client, C.MemberAdd, { peerURLs: await peer(), isLearner: true });
  seen['add a learner'] = text(learner);
  if (learner.ok) seen['remove it'] = text(await callUnary(client, C.MemberRemove, { ID: learner.response.member!.ID }));
  client.close();
  return seen;
}

/** What a real etcd 3.4.23 (Debian's) answered to each step when this file was written. */
const EXPECTED = {
  three: {
    'add a voter, all running': OK,
    'add a voter, one added not started': UNHEALTHY,
    'add a learner, one added not started': UNHEALTHY,
    'remove the member not started': OK,
    'add a learner after a leader change': OK,
    'remove it': OK,
    'add a voter, one stopped': UNHEALTHY,
    'add a learner, one stopped': UNHEALTHY,
    'remove another running member, one stopped': UNHEALTHY,
    'remove the member asked, one stopped': UNHEALTHY,
    'remove the stopped member': OK,
    'add a voter, alone of two': UNHEALTHY,
    'remove the member asked, alone of two': UNHEALTHY,
  },
  one: {
    'add a voter to one member': OK,
    'add another voter': NOT_ENOUGH_STARTED,
    'add a learner': UNHEALTHY,
    'remove the started member': NOT_ENOUGH_STARTED,
  },
  strict: { 'add a learner': UNHEALTHY },
  lax: { 'add a learner': OK, 'remove it': OK },
};

describe('--strict-reconfig-check: pontoon-kv answers as etcd 3.4', () => {
  etcdBinary('etcd');
  for (const [name, startFn] of TARGETS) {
    it(`${name}: three members, one added and never started, then one and two stopped`, async () => {
      expect(await threeMembers(startFn)).toEqual(EXPECTED.three);
    }, LONG);

    it(`${name}: one member grown by a voter that never starts`, async () => {
      expect(await oneMember(startFn)).toEqual(EXPECTED.one);
    }, LONG);

    it(`${name}: --strict-reconfig-check=false lets through what true refuses`, async () => {
      expect(await withOneStopped(startFn, true)).toEqual(EXPECTED.strict);
      await Promise.all(running.map((t) => t.stop()));
      running = [];
      expect(await withOneStopped(startFn, false)).toEqual(EXPECTED.lax);
    }, LONG);
  }
});
