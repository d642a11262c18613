/**
 * Recovery from a lost quorum: of three members, two are destroyed (SIGKILL, data removed); the
 * third is restarted with --force-new-cluster, becomes a one-member cluster from its own data,
 * takes writes, and grows to three again with two new members. Every write the survivor had
 * applied is still there, on all three.
 */
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { checkCounter, startCluster, WriteLoad } from './support/cluster.js';

it('recovers a one-member cluster from the survivor of a lost quorum and grows it back to three', async () => {
  const c = await startCluster({ tickMs: 50, snapshotEvery: 500 });
  const leader = await c.waitForLeader();
  const before = new WriteLoad(c, 8, 1500);
  await before.done;
  await c.values(); // every node applied every acknowledged write

  // The survivor is a follower, so that the destroyed majority includes the leader.
  const survivor = [1, 2, 3].find((id) => id !== leader.id)!;
  const destroyed = [1, 2, 3].filter((id) => id !== survivor);
  for (const id of destroyed) {
    await c.kill(id);
    fs.rmSync(c.node(id).dataDir, { recursive: true, force: true });
  }
  const applied = await c.status(survivor);
  // Without a quorum the survivor cannot be elected.
  expect(applied.role).not.toBe('leader');
  await c.kill(survivor, 'SIGTERM');

  await c.start(survivor, { forceNewCluster: true });
  const recovered = await c.waitForLeader();
  expect(recovered.id).toBe(survivor);
  expect(recovered.voters).toEqual([survivor]);
  const afterRecovery = await c.command(survivor, 'get');
  expect(afterRecovery.value).toBe(applied.value);

  const during = new WriteLoad(c, 8);
  for (const id of [4, 5]) {
    const n = await c.addMember(id);
    await c.start(id, { join: true });
    await c.leaderCommand(`add-learner ${id} ${n.address}`);
    const { commitIndex } = await c.waitForLeader();
    await c.waitUntil(`n${id} to catch up`, async () => (await c.status(id)).appliedIndex >= commitIndex);
    await c.leaderCommand(`promote ${id}`);
  }
  await c.waitUntil('writes to the regrown cluster', () => during.acked.length >= 300);
  await during.stop();

  const values = await c.values();
  expect([...values.keys()].sort()).toEqual([survivor, 4, 5].sort());
  for (const s of await c.statuses()) expect(s.voters).toEqual([survivor, 4, 5].sort());
  // The survivor held every write acknowledged before the loss (it had applied them all), so
  // the counter starts from the acknowledged writes of both phases.
  expect(applied.value).toBeGreaterThanOrEqual(before.acked.length);
  const all = { acked: [...before.acked, ...during.acked], unknown: before.unknown + during.unknown };
  expect(checkCounter(all, values)).toEqual([]);
  expect(c.termsWithTwoLeaders()).toEqual([]);
  console.log(
    `force-new-cluster: n${survivor} survived with counter ${applied.value} at index ${applied.appliedIndex}; ` +
      `regrown to n${survivor}, n4, n5 with ${during.acked.length} more writes; counter ${[...values.values()][0]}`,
  );
});
