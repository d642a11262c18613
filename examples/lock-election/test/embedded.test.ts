import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedElection, embeddedLockWorkers } from '../embedded-parts.js';
import { type EmbeddedCluster, startEmbeddedCluster } from '../embedded-cluster.js';
import { runElectionFailover } from '../election-failover.js';
import { runLockWorkers } from '../lock-workers.js';
import { runStaleHolder } from '../stale-holder.js';
import { expectExclusiveFencedHolds, expectOrderlyFailover } from './checks.js';

/** The lock and the election on the embedded API, three members in this process. */

const LONG = 120_000;
let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await startEmbeddedCluster();
}, LONG);

afterAll(async () => {
  await cluster?.close();
});

describe('lock and election on the embedded @pontoon/kv API', () => {
  it('three workers, one per member, never hold the lock together and write with increasing tokens', async () => {
    const names = ['a', 'b', 'c'];
    const contention = await embeddedLockWorkers(cluster, names, 'locks/t1', 'resources/t1', 5);
    try {
      const run = await runLockWorkers(contention.workers, { rounds: 3, writesPerHold: 2, pauseMs: 20 });
      await expectExclusiveFencedHolds(run, names, 3, contention.workers[0]!.resource);
    } finally {
      await contention.close();
    }
  }, LONG);

  it('a holder whose lease expired during a pause is fenced off by the next holder', async () => {
    const pair = await embeddedLockWorkers(cluster, ['paused', 'fresh'], 'locks/t2', 'resources/t2', 2);
    try {
      const run = await runStaleHolder(pair.workers[0]!, () => pair.sessions[0]!.close(), pair.workers[1]!);
      expect(run.freshToken).toBeGreaterThan(run.staleToken);
      expect(run.staleWriteAccepted).toBe(false);
      expect(run.final).toEqual({ token: run.freshToken, data: 'fresh: after taking over' });
    } finally {
      await pair.close();
    }
  }, LONG);

  it('when the leader dies the next candidate leads, one at a time, as Observe reports', async () => {
    const names = ['c1', 'c2', 'c3'];
    const ledger = await runElectionFailover({ names, ...embeddedElection(cluster, 'elections/t3', 2), takeoverTimeoutMs: 30_000 });
    expect(ledger.losses).toEqual([]);
    expectOrderlyFailover(ledger, names);
  }, LONG);
});
