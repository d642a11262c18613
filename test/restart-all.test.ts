/**
 * Every node of a 3-process cluster dies by SIGKILL at once while clients write, twice; all are
 * started again over their SQLite directories. The state machines come back identical, with
 * every acknowledged write: a write is acknowledged only once a quorum has it on disk.
 */
import { expect, it } from 'vitest';
import { checkCounter, startCluster, WriteLoad } from './support/cluster.js';

it('brings every node back identical, with every acknowledged write, after SIGKILL of all', async () => {
  const c = await startCluster({ tickMs: 50 });
  await c.waitForLeader();
  // The clients keep going through the outage: refused while no node runs, they retry.
  const load = new WriteLoad(c, 16);
  for (let round = 1; round <= 2; round++) {
    const target = load.acked.length + 400;
    await c.waitUntil(`${target} acknowledged writes`, () => load.acked.length >= target);
    const ackedBefore = load.acked.length;
    await Promise.all([1, 2, 3].map((id) => c.kill(id)));
    await Promise.all([1, 2, 3].map((id) => c.start(id)));
    // Leader completeness: whoever wins holds every committed entry, all read back from disk
    // (the log holds at least one entry per acknowledged write).
    const leader = await c.waitForLeader();
    expect(leader.log.lastIndex).toBeGreaterThanOrEqual(ackedBefore);
    await c.waitUntil('writes after the restart', () => load.acked.length >= ackedBefore + 200);
  }
  await load.stop();
  const values = await c.values();
  expect(values.size).toBe(3);
  expect(checkCounter(load, values)).toEqual([]);
  const statuses = await c.statuses();
  expect(new Set(statuses.map((s) => s.appliedIndex)).size).toBe(1);
  expect(c.termsWithTwoLeaders()).toEqual([]);
  console.log(`restart-all: ${load.acked.length} acknowledged, ${load.unknown} unknown ${JSON.stringify(load.unknownBy)}, counter ${[...values.values()][0]}`);
});
