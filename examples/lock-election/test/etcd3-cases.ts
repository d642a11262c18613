import { expect, it } from 'vitest';
import { runElectionFailover } from '../election-failover.js';
import { etcd3Election, etcd3LockWorkers } from '../etcd3-parts.js';
import { runLockWorkers } from '../lock-workers.js';
import { expectExclusiveFencedHolds, expectOrderlyFailover } from './checks.js';

/** How long each case may take: a loaded machine starts candidate processes slowly. */
export const LONG = 180_000;

/**
 * The lock and the election over the etcd3 npm client, the same cases on pontoon-kv and on a real
 * etcd 3.4: `endpoints` is read when a case runs, after the caller's cluster has started.
 */
export function etcd3Cases(endpoints: () => readonly string[]): void {
  it('three workers, one client each, never hold the lock together and write with increasing tokens', async () => {
    const names = ['a', 'b', 'c'];
    const contention = etcd3LockWorkers(endpoints(), names, 'locks/t1', 'resources/t1', 5);
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
    const ledger = await runElectionFailover({ names, ...etcd3Election(endpoints(), 'elections/t2', 3, log), takeoverTimeoutMs: 90_000, log }).catch(
      (err: Error) => Promise.reject(new Error(`${err.message}\n${story.join('\n')}`)),
    );
    expect(ledger.losses, story.join('\n')).toEqual([]);
    expectOrderlyFailover(ledger, names);
  }, LONG);
}
