/**
 * Lease reads on a leader stopped with SIGSTOP (issue 17): 3 counter processes with lease reads;
 * the leader is stopped for longer than an election timeout while the others elect a new leader
 * and take writes; `get`s are sent to the stopped process meanwhile (they wait in its IPC
 * channel, as requests wait in a real server's sockets), and a few more right after SIGCONT. No
 * read may answer a value below one that a write acknowledged before the read was sent. Before
 * the lease clock (packages/raft/src/node/lease-clock.ts), a resumed leader answered such reads
 * from its old state within milliseconds of SIGCONT, before it noticed the new term. Every
 * other round the followers restart while the leader is stopped: the newer leader's messages to
 * the stopped node then wait for a connection, as in the runs that found this.
 */
import { expect, it } from 'vitest';
import { startCluster } from './support/cluster.js';

const ROUNDS = 6;
/** How long the stopped leader stays stopped once another leads, taking writes. */
const PAUSE_AFTER_ELECTION_MS = 1000;
/** Rounds stop starting after this long, so that the test stays bounded on a slow machine. */
const BUDGET_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ReadOutcome {
  /** The highest counter value a write acknowledged before the read was sent. */
  floor: number;
  value: number | undefined;
  error: string | undefined;
}

it('a leader stopped past its lease answers no stale read after SIGCONT', async () => {
  const c = await startCluster({ tickMs: 30, leaseReads: true });
  let maxAcked = 0;
  const inc = async (id: number): Promise<void> => {
    const a = await c.command(id, 'inc');
    if (a.value !== undefined) maxAcked = Math.max(maxAcked, a.value);
  };
  const read = (id: number): Promise<ReadOutcome> => {
    const floor = maxAcked;
    return c.command(id, 'get').then((a) => ({ floor, value: a.value, error: a.error }));
  };

  /** Polls the nodes other than the stopped one (whose status would wait for SIGCONT). */
  const newLeader = async (stopped: number, afterTerm: number): Promise<number> => {
    let found: number | undefined;
    const elected = async (): Promise<boolean> => {
      for (const id of c.live().filter((n) => n !== stopped)) {
        const s = await c.status(id).catch(() => undefined);
        if (s?.role === 'leader' && s.term > afterTerm) found = id;
      }
      return found !== undefined;
    };
    await c.waitUntil('a new leader while the old one is stopped', elected, 30_000);
    return found!;
  };

  const outcomes: ReadOutcome[] = [];
  const started = performance.now();
  let rounds = 0;
  while (rounds < ROUNDS && performance.now() - started < BUDGET_MS) {
    const leader = await c.waitForLeader();
    for (let i = 0; i < 5; i++) await inc(leader.id);
    const pid = c.node(leader.id).pid!;
    process.kill(pid, 'SIGSTOP');
    let stopped = true;
    try {
      if (rounds % 2 === 1) {
        // The followers restart meanwhile: their new connections to the stopped node wait for a
        // handshake, so what the new leader sends there is dropped, and the resumed node hears
        // of the newer term only after it answered the handshake (connections lost at a bad time).
        const followers = c.live().filter((id) => id !== leader.id);
        await Promise.all(followers.map((id) => c.kill(id)));
        await Promise.all(followers.map((id) => c.start(id)));
      }
      const next = await newLeader(leader.id, leader.term);
      // The new leader takes writes while reads queue at the stopped one, each sent after the
      // writes acknowledged so far.
      const reads: Array<Promise<ReadOutcome>> = [];
      const until = performance.now() + PAUSE_AFTER_ELECTION_MS;
      while (performance.now() < until) {
        await inc(next);
        reads.push(read(leader.id), read(leader.id));
      }
      process.kill(pid, 'SIGCONT');
      stopped = false;
      for (let i = 0; i < 5; i++) {
        reads.push(read(leader.id));
        await sleep(2);
      }
      outcomes.push(...(await Promise.all(reads)));
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
    }
    rounds++;
    // The resumed node follows the new leader before the next round stops whoever leads.
    await c.waitUntil('the resumed node to follow', async () => (await c.status(leader.id)).role === 'follower', 30_000);
  }

  const answered = outcomes.filter((o) => o.value !== undefined);
  const stale = answered.filter((o) => o.value! < o.floor);
  console.log(`lease reads across SIGSTOP: ${rounds} rounds, ${outcomes.length} reads, ${answered.length} answered, ${stale.length} stale`);
  expect(rounds).toBeGreaterThanOrEqual(3);
  expect(answered.length).toBeGreaterThan(0);
  expect(stale.map((o) => `read ${o.value} after a write acknowledged ${o.floor}`)).toEqual([]);
}, 90_000);
