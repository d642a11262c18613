/**
 * SIGKILL during writes, in real processes: three KvMembers (SQLite store and Raft log, TCP
 * between them; support/kv-member-process.ts), nine clients writing through all three at once.
 * Eight rounds each SIGKILL one member (the leader in even rounds, a follower in odd ones; in
 * rounds 2 and 5 it is killed a second time while it restarts, right after it opened its files)
 * and start it again over its data directory, while the writes go on.
 *
 * Every write puts a key never written before, so a double apply shows: the key's version is 2,
 * and the revision is no longer 1 + the number of keys. Checked:
 * - no acknowledged write is lost: a write counts once its answer reached this process, and at
 *   the end every member holds every such key with its value;
 * - no entry is applied twice: every key has version 1 and every store's revision is 1 + its
 *   number of keys, at every restart and at the end;
 * - the applied index and the data agree after every restart: the position the store recorded
 *   with its data implies, through the Raft log's entries up to it, exactly the store's revision
 *   (checked by the restarted process before its member opens), and HashKV at that revision is
 *   the same on every member at the end;
 * - at the end all three members have applied the same index, with the same revision and HashKV.
 *
 * More rounds: PONTOON_KV_SIGKILL_ROUNDS=30 npx -y pnpm@10 exec vitest run packages/kv/test/sigkill-writes.process.test.ts
 */
import { afterAll, expect, it, onTestFailed } from 'vitest';
import type { OpenedReport } from './support/kv-member-process.js';
import { KvProcessCluster, waitUntil } from './support/kv-process-cluster.js';

const TICK_MS = 50;
const ROUNDS = Number(process.env.PONTOON_KV_SIGKILL_ROUNDS ?? 8);
const WRITERS_PER_MEMBER = 3;
/** Acknowledged writes between two kills, so that every round kills under load. */
const WRITES_PER_ROUND = 40;
const ELECTION_MS = 10 * TICK_MS;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let cluster: KvProcessCluster | undefined;
afterAll(async () => {
  await cluster?.close();
});

/** What a restarted member's files held must agree with itself (see kv-member-process.ts). */
function checkOpened(r: OpenedReport): void {
  const where = `member ${r.id} opened at index ${r.appliedIndex} (revision ${r.revision}, ${r.keys} keys)`;
  expect(r.logFirstIndex, `${where}: the log was compacted`).toBe(1);
  expect(r.impliedRevision, `${where}: the log up to the applied index implies another revision`).toBe(r.revision);
  expect(r.maxVersion, `${where}: a key was put twice (an entry applied twice)`).toBeLessThanOrEqual(1);
  expect(r.revision, `${where}: revision is not 1 + keys (an entry applied twice, or half applied)`).toBe(1 + r.keys);
}

it(`SIGKILL during writes, ${ROUNDS} rounds: no acknowledged write lost, none applied twice, applied index and data agree`, { timeout: 420_000 }, async () => {
  const started = performance.now();
  const c = await KvProcessCluster.create(3, TICK_MS);
  cluster = c;
  onTestFailed(() => {
    for (const m of c.members.values()) if (m.stderr !== '') console.error(`--- member ${m.id} stderr ---\n${m.stderr}`);
  });
  await Promise.all([1, 2, 3].map((id) => c.start(id)));
  await c.waitForLeader();

  const acked = new Map<string, string>();
  const unknown = new Set<string>();
  let writing = true;
  const writer = async (memberId: number, w: number): Promise<void> => {
    const m = c.member(memberId);
    let seq = 0;
    while (writing) {
      if (!m.alive) {
        await sleep(20);
        continue;
      }
      const key = `k/${memberId}.${w}/${seq}`;
      const value = `v${seq}@${memberId}.${w}`;
      seq++;
      try {
        await m.put(key, value);
        acked.set(key, value);
        // A breath between writes: enough load to kill under, without starving the restarts of CPU.
        await sleep(5);
      } catch {
        // The process died, or the member answered with an error (no leader, timed out): the
        // write may or may not have applied. It is never sent again (a new key comes next).
        unknown.add(key);
        await sleep(20);
      }
    }
  };
  const writers = [1, 2, 3].flatMap((id) => Array.from({ length: WRITERS_PER_MEMBER }, (_, w) => writer(id, w)));

  let followerTurn = 0;
  let doubleKills = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const target = acked.size + WRITES_PER_ROUND;
      await waitUntil(`${target} acknowledged writes before round ${round}`, () => acked.size >= target, 60_000);
      const leader = await c.waitForLeader();
      const victim = round % 2 === 0 ? leader : [1, 2, 3].filter((id) => id !== leader)[followerTurn++ % 2]!;
      const m = c.member(victim);
      await m.kill();
      // The others elect (if the leader died) and go on writing meanwhile.
      await sleep(Math.floor(Math.random() * 2 * ELECTION_MS));
      if (round % 3 === 2) {
        // Killed again while it restarts: after it opened its files, during its member's start and
        // its first applies (catching up on what it missed), at a random moment.
        await c.start(victim, 'opened');
        checkOpened(m.opened.at(-1)!);
        await sleep(Math.floor(Math.random() * 400));
        await m.kill();
        doubleKills++;
      }
      await c.start(victim, 'opened');
      checkOpened(m.opened.at(-1)!);
      await waitUntil(`member ${victim} running again`, async () => (await m.status().catch(() => undefined)) !== undefined);
    }
    const target = acked.size + WRITES_PER_ROUND;
    await waitUntil(`${target} acknowledged writes after the last round`, () => acked.size >= target, 60_000);
  } finally {
    // Also when a check above failed: no writer outlives the test.
    writing = false;
    await Promise.all(writers);
  }

  // Converged: every member applied the leader's commit index, with the same revision.
  await waitUntil('the members to converge', async () => {
    const s = await c.statuses();
    const l = s.find((x) => x.role === 'leader');
    return s.length === 3 && l !== undefined && s.every((x) => x.appliedIndex === l.commitIndex && x.revision === l.revision);
  });
  const dumps = await Promise.all([1, 2, 3].map((id) => c.member(id).dump()));
  const [first] = dumps;
  for (const [i, d] of dumps.entries()) {
    const where = `member ${i + 1}`;
    expect(d.appliedIndex, `${where}: applied index`).toBe(first!.appliedIndex);
    expect(d.revision, `${where}: revision`).toBe(first!.revision);
    expect(d.hash, `${where}: HashKV`).toBe(first!.hash);
    const stored = new Map(d.kvs.map((kv) => [kv.key, kv]));
    // No acknowledged write lost.
    const lost = [...acked].filter(([key, value]) => stored.get(key)?.value !== value).map(([key]) => key);
    expect(lost, `${where}: acknowledged writes missing`).toEqual([]);
    // Nothing applied twice, nothing invented.
    expect(d.kvs.filter((kv) => kv.version !== 1).map((kv) => `${kv.key} v${kv.version}`), `${where}: keys put twice`).toEqual([]);
    expect(d.revision, `${where}: revision is not 1 + keys`).toBe(1 + d.kvs.length);
    expect(d.kvs.filter((kv) => !acked.has(kv.key) && !unknown.has(kv.key)).map((kv) => kv.key), `${where}: keys nobody wrote`).toEqual([]);
  }
  // Every restart's store, at the revision it recorded, is what every member holds at that revision.
  const reports = [...c.members.values()].flatMap((m) => m.opened).filter((r) => r.appliedIndex > 0);
  for (const r of reports) {
    for (const id of [1, 2, 3]) {
      expect(await c.member(id).hashKV(r.revision), `HashKV at revision ${r.revision} on member ${id} vs member ${r.id}'s restart`).toBe(r.hash);
    }
  }
  // The same applied index means the same revision, whichever member recorded it.
  const revisionAt = new Map<number, number>();
  for (const r of reports) {
    const seen = revisionAt.get(r.appliedIndex);
    if (seen !== undefined) expect(r.revision, `two restarts at index ${r.appliedIndex}`).toBe(seen);
    revisionAt.set(r.appliedIndex, r.revision);
  }
  for (const m of c.members.values()) expect(m.unexpectedExits, `member ${m.id}`).toEqual([]);
  expect(reports.length).toBeGreaterThanOrEqual(ROUNDS);
  console.log(
    `sigkill-writes: ${ROUNDS} rounds (${doubleKills} killed again while restarting), ${acked.size} acknowledged, ${unknown.size} unknown, ` +
      `${reports.length} restarts checked, final revision ${first!.revision} at index ${first!.appliedIndex}, ${Math.round(performance.now() - started)} ms`,
  );
});
