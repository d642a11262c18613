/**
 * The lock workers and election candidates of the runs (lock-workers.ts, stale-holder.ts,
 * election-failover.ts) built on the embedded API: each worker or candidate talks to its own
 * member, as programs spread over the cluster would, with its own session (a lease that
 * @pontoon/kv keeps alive).
 */
import type { KvLease } from '@pontoon/kv';
import type { EmbeddedCluster } from './embedded-cluster.js';
import { Election, observeElection } from './election.js';
import type { Candidate, ElectionFailoverOptions } from './election-failover.js';
import { KvFencedResource } from './fenced-resource.js';
import type { LockWorker } from './lock-workers.js';
import { Mutex } from './mutex.js';

/** Lock workers with their sessions; `close()` revokes the sessions that are left. */
export interface EmbeddedWorkers {
  readonly workers: LockWorker[];
  readonly sessions: KvLease[];
  close(): Promise<void>;
}

/**
 * One worker per name, round-robin over the members, contending for lock `lockName` and
 * writing to resource `resourceName`; each session has a lease of `ttl` seconds.
 */
export async function embeddedLockWorkers(cluster: EmbeddedCluster, names: readonly string[], lockName: string, resourceName: string, ttl: number): Promise<EmbeddedWorkers> {
  const workers: LockWorker[] = [];
  const sessions: KvLease[] = [];
  for (const [i, name] of names.entries()) {
    const member = cluster.members[i % cluster.members.length]!;
    const session = await member.lease(ttl);
    sessions.push(session);
    workers.push({ name, lock: new Mutex(member, session, lockName), resource: new KvFencedResource(member, resourceName) });
  }
  await workers[0]?.resource.init();
  return {
    workers,
    sessions,
    close: async () => {
      // A session already closed (paused) is left to expire; revoking it again would fail.
      await Promise.allSettled(sessions.map((s) => s.revoke()));
    },
  };
}

/** Candidates and an observer for runElectionFailover on election `electionName`. */
export function embeddedElection(cluster: EmbeddedCluster, electionName: string, ttl: number): Pick<ElectionFailoverOptions, 'startCandidate' | 'observe'> {
  let started = 0;
  return {
    async startCandidate(name, report): Promise<Candidate> {
      const member = cluster.members[started++ % cluster.members.length]!;
      const session = await member.lease(ttl);
      const stop = new AbortController();
      // A candidate whose session ends on its own (keepalives failing) is out of the election.
      void session.lost.then((reason) => {
        if (!stop.signal.aborted) report.lost(reason.message);
      });
      new Election(member, session, electionName).campaign(name, stop.signal).then(
        () => {
          if (!stop.signal.aborted) report.elected();
        },
        () => {
          // Only a kill stops a campaign here; a killed candidate announces nothing.
        },
      );
      return {
        async kill() {
          // A crash: keepalives stop, nothing is revoked or resigned; the lease expires.
          session.close();
          stop.abort(new Error(`${name} killed`));
        },
      };
    },
    async observe(leader) {
      const stop = new AbortController();
      const member = cluster.members[cluster.members.length - 1]!;
      const observing = (async () => {
        try {
          for await (const kv of observeElection(member, electionName, stop.signal)) leader(Buffer.from(kv.value).toString());
        } catch (err) {
          if (!stop.signal.aborted) throw err;
        }
      })();
      return async () => {
        stop.abort(new Error('observer stopped'));
        await observing;
      };
    },
  };
}
