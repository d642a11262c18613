import { Etcd3 } from 'etcd3';
import { expect, it } from 'vitest';
import { runElectionFailover } from '../election-failover.js';
import { Etcd3ElectionObserver } from '../etcd3-observer.js';
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

  it('candidates that campaign at once: the observer names the one elected, the oldest key', async () => {
    const clients = [0, 1, 2].map(() => new Etcd3({ hosts: [...endpoints()] }));
    const [watching, ...campaigning] = clients as [Etcd3, ...Etcd3[]];
    try {
      // A few rounds: each is a fresh election whose candidates' puts race each other.
      for (let round = 0; round < 5; round++) {
        const name = `elections/t3-${round}`;
        const seen: (string | undefined)[] = [];
        const observer = new Etcd3ElectionObserver(watching, name, (v) => seen.push(v), (err) => seen.push(`error: ${err.message}`));
        await observer.ready;
        const campaigns = campaigning.map((c, i) => c.election(name, 5).campaign(`candidate-${i}`));
        const elected = await Promise.race(campaigns.map((c, i) => c.wait().then(() => `candidate-${i}`)));
        const oldest = await watching.election(name).leader();
        await expect.poll(() => observer.leader, { timeout: 10_000 }).toBe(elected);
        await Promise.all(campaigns.map((c) => c.resign()));
        await observer.cancel();
        expect(oldest).toBe(elected);
        // Nobody, then the leader: never a candidate in between that did not lead.
        expect(seen.slice(0, 2), `round ${round}`).toEqual([undefined, elected]);
      }
    } finally {
      clients.forEach((c) => c.close());
    }
  }, LONG);
}
