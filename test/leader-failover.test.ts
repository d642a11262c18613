/**
 * The leader of a 3-process cluster (SQLite, TCP) dies by SIGKILL while 16 clients write: the
 * two others elect a new leader within a few election timeouts, the writes go on, and every
 * write whose promise resolved is in every live node's state machine.
 */
import { expect, it } from 'vitest';
import { checkCounter, startCluster, WriteLoad } from './support/cluster.js';

it('elects a new leader after SIGKILL of the leader under load, losing no acknowledged write', async () => {
  const c = await startCluster({ tickMs: 50 });
  const old = await c.waitForLeader();
  const load = new WriteLoad(c, 16);
  await c.waitUntil('500 acknowledged writes', () => load.acked.length >= 500);

  const elected = c.nextLeader({ afterTerm: old.term, excluding: old.id });
  const killedAt = c.now();
  await c.kill(old.id);
  const next = await elected;
  const electionMs = next.at - killedAt;
  // The followers notice after 10-20 ticks without a heartbeat, then PreVote and vote: one
  // election timeout and a round trip, unless a split vote costs another.
  expect(electionMs).toBeLessThan(4 * c.electionTimeoutMs);

  const ackedAtElection = load.acked.length;
  await c.waitUntil('500 writes on the new leader', () => load.acked.length >= ackedAtElection + 500);
  await load.stop();
  const values = await c.values();
  expect([...values.keys()].sort()).toEqual([1, 2, 3].filter((id) => id !== old.id));
  expect(checkCounter(load, values)).toEqual([]);
  expect(c.termsWithTwoLeaders()).toEqual([]);
  console.log(
    `failover: new leader n${next.leaderId} in ${Math.round(electionMs)} ms; writes paused ${Math.round(load.longestPause.ms)} ms; ` +
      `${load.acked.length} acknowledged, ${load.unknown} unknown, counter ${[...values.values()][0]}`,
  );
});
