import { type PontoonKvCluster, startPontoonKvCluster } from 'pontoon-kv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runElectionFailover } from '../election-failover.js';
import { etcd3Election, etcd3LockWorkers } from '../etcd3-parts.js';
import { runLockWorkers } from '../lock-workers.js';
import { expectExclusiveFencedHolds, expectOrderlyFailover } from './checks.js';

/** The lock and the election over the etcd3 npm client against three pontoon-kv processes. */

const LONG = 180_000;
let cluster: PontoonKvCluster;

beforeAll(async () => {
  cluster = await startPontoonKvCluster({ extraFlags: ['--heartbeat-interval=50', '--election-timeout=500'] });
}, LONG);

afterAll(async () => {
  await cluster?.stop();
}, LONG);

describe('etcd3 Lock and Election against pontoon-kv', () => {
  it('three workers, one client each, never hold the lock together and write with increasing tokens', async () => {
    const names = ['a', 'b', 'c'];
    const contention = etcd3LockWorkers(cluster.endpoints, names, 'locks/t1', 'resources/t1', 5);
    try {
      await contention.init();
      const run = await runLockWorkers(contention.workers, { rounds: 2, writesPerHold: 2, pauseMs: 20 });
      await expectExclusiveFencedHolds(run, names, 2, contention.workers[0]!.resource);
    } finally {
      contention.close();
    }
  }, LONG);

  it('candidate processes: when the leader is SIGKILLed the next leads, one at a time, as Observe reports', async () => {
    const names = ['c1', 'c2', 'c3'];
    // The run's story, shown if it fails: who campaigned with which key, who was elected, killed, lost.
    const story: string[] = [];
    const log = (line: string): void => void story.push(line);
    const ledger = await runElectionFailover({ names, ...etcd3Election(cluster.endpoints, 'elections/t2', 3, log), takeoverTimeoutMs: 90_000, log }).catch(
      (err: Error) => Promise.reject(new Error(`${err.message}\n${story.join('\n')}`)),
    );
    expect(ledger.losses, story.join('\n')).toEqual([]);
    expectOrderlyFailover(ledger, names);
  }, LONG);
});
