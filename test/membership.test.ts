/**
 * Membership changes while 16 clients write: a 4th process joins as a learner, catches up, is
 * promoted to voter; an old voter is removed (and its process stopped); leadership moves to the
 * newcomer. No acknowledged write is lost and no term ever has two leaders.
 */
import { expect, it } from 'vitest';
import { checkCounter, startCluster, WriteLoad } from './support/cluster.js';

it('adds a learner, promotes it, removes an old voter and transfers leadership under load', async () => {
  const c = await startCluster({ tickMs: 50 });
  await c.waitForLeader();
  const load = new WriteLoad(c, 16);
  const progress = async (what: string, writes = 200): Promise<void> => {
    const target = load.acked.length + writes;
    await c.waitUntil(`${writes} more writes after ${what}`, () => load.acked.length >= target);
  };
  await progress('the start');

  const n4 = await c.addMember(4);
  await c.start(4, { join: true }); // empty, waiting to be added
  const asLearner = await c.leaderCommand(`add-learner 4 ${n4.address}`);
  expect(asLearner).toMatchObject({ voters: [1, 2, 3], learners: [4] });
  const { commitIndex } = await c.waitForLeader();
  await c.waitUntil('n4 to catch up', async () => (await c.status(4)).appliedIndex >= commitIndex);
  await progress('adding n4');

  const promoted = await c.leaderCommand('promote 4');
  expect(promoted).toMatchObject({ voters: [1, 2, 3, 4], learners: [] });
  await progress('promoting n4');

  // Remove a voter other than the leader; then its process has no cluster and is stopped.
  const leader = await c.waitForLeader();
  const removed = [1, 2, 3].find((id) => id !== leader.id)!;
  const after = await c.leaderCommand(`remove ${removed}`);
  expect(after).toMatchObject({ voters: [1, 2, 3, 4].filter((id) => id !== removed), learners: [] });
  await c.kill(removed, 'SIGTERM');
  await progress(`removing n${removed}`);

  const n4Leads = c.nextEvent('leaderChanged', (e) => e.node === 4 && e.leaderId === 4);
  await c.leaderCommand('transfer 4'); // resolves once the old leader has seen n4 take over
  await n4Leads;
  await progress('the transfer');

  await load.stop();
  const values = await c.values();
  expect([...values.keys()].sort()).toEqual([1, 2, 3, 4].filter((id) => id !== removed));
  for (const s of await c.statuses()) expect(s.voters).toEqual([1, 2, 3, 4].filter((id) => id !== removed));
  expect(checkCounter(load, values)).toEqual([]);
  expect(c.termsWithTwoLeaders()).toEqual([]);
  console.log(`membership: ${load.acked.length} acknowledged, ${load.unknown} unknown, counter ${[...values.values()][0]}`);
});
