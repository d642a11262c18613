/**
 * Candidates campaign, one leads; the leader dies (killed, not resigned), the next takes over,
 * until one candidate is left. Candidates and the observer are given as callbacks, so the same
 * run drives in-process candidates on the embedded API and candidate processes on the etcd3
 * client.
 */
import { LeadershipLedger } from './leadership-ledger.js';

/** A running candidate. */
export interface Candidate {
  /** Kills it the way a crash would: its session is not revoked, its lease has to expire. */
  kill(): Promise<void>;
}

/** What a candidate tells the run. */
export interface CandidateReport {
  elected(): void;
  lost(reason: string): void;
}

export interface ElectionFailoverOptions {
  /** Candidate names, started in this order. */
  readonly names: readonly string[];
  /**
   * Starts a candidate that campaigns with `name` as its value and calls `elected` once it
   * leads, or `lost` if its campaign fails on its own (its session lost).
   */
  startCandidate(name: string, report: CandidateReport): Promise<Candidate>;
  /** Starts observing the election; `leader` gets each leader's value. Resolves with a stop function. */
  observe(leader: (value: string | undefined) => void): Promise<() => Promise<void>>;
  /** How long one takeover may take before the run fails (lease TTL plus slack). */
  readonly takeoverTimeoutMs: number;
  readonly log?: (line: string) => void;
}

/** Runs the failover chain and returns the ledger: who led, in which order, and any violation. */
export async function runElectionFailover(options: ElectionFailoverOptions): Promise<LeadershipLedger> {
  const ledger = new LeadershipLedger();
  const candidates = new Map<string, Candidate>();
  const stopObserving = await options.observe((value) => {
    if (value !== ledger.observedLeader && value !== undefined) options.log?.(`observer: the leader is ${value}`);
    ledger.observedValue(value);
  });
  try {
    for (const name of options.names) {
      ledger.joined(name);
      candidates.set(
        name,
        await options.startCandidate(name, {
          elected: () => {
            options.log?.(`${name}: elected`);
            ledger.announcedElected(name);
          },
          lost: (reason) => {
            // Not a kill of ours: the candidate's session ended on its own (lease expired).
            options.log?.(`${name}: lost its campaign: ${reason}`);
            ledger.lost(name, reason);
          },
        }),
      );
    }
    for (let kills = 0; kills < options.names.length; kills++) {
      await ledger.until(
        () => ledger.leader !== undefined && ledger.observedLeader === ledger.leader,
        `a leader elected and observed after ${kills} kill(s)`,
        options.takeoverTimeoutMs,
      );
      if (kills === options.names.length - 1) break; // the last candidate stays
      const leader = ledger.leader!;
      options.log?.(`killing the leader ${leader}`);
      await candidates.get(leader)!.kill();
      candidates.delete(leader);
      ledger.died(leader);
    }
  } finally {
    await stopObserving();
    await Promise.allSettled([...candidates.values()].map((c) => c.kill()));
  }
  return ledger;
}
