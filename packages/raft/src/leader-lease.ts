/**
 * The leader's lease for lease-based reads (Raft thesis §6.4.1), counted in the leader's ticks.
 *
 * A follower that heard from the leader refuses to vote for anyone else (and to pre-vote) for an
 * election timeout of its own ticks (CheckQuorum's "in lease" rule). So once a quorum has
 * acknowledged a heartbeat that the leader sent at tick s, no other leader can be elected before
 * about s + electionTimeout: until then, given clocks that tick at about the same rate, the
 * leader's committed index is the cluster's and reads can be served without a heartbeat round.
 *
 * Why not CheckQuorum alone (what etcd's ReadOnlyLeaseBased trusts): CheckQuorum looks back over
 * a whole election timeout, once per election timeout, so a leader cut off just after one check
 * keeps leading for up to two election timeouts, while the followers may elect another leader
 * after one; in that window both serve reads, and the old one serves stale ones (etcd-io/raft
 * issue 166; our simulator found it, `pnpm sim --nodes 5 --lease --replay 423060`).
 *
 * Each heartbeat in lease mode carries a token: the heartbeat round and the tick it was sent at.
 * Followers echo it (they echo any heartbeat context). The lease is the tick of the newest round
 * a quorum has acknowledged, plus the election timeout, less one tick (the follower's count
 * starts at its next tick, and the heartbeat was sent somewhere within a tick of the leader's).
 * Rounds sent while a leadership transfer was pending never count: the transferee's forced
 * campaign does not respect the followers' pledge.
 *
 * Ticks alone cannot bound the lease in real time: a leader whose process is stopped (a long
 * garbage-collection pause, SIGSTOP, a frozen VM) does not tick, so on resuming it would find its
 * lease barely started while the followers' pledges ran out long ago and another leader took
 * writes. The core has no clock, so the node driver measures the rounds on its monotonic clock
 * (node/lease-clock.ts) and expires, through expireThrough(), every round sent longer ago than
 * the lease may last in real time, and every round sent before a pause: the lease then rests
 * only on rounds both clocks agree on, and a read without one waits for a fresh round, as with
 * ReadIndex.
 *
 * What it still assumes, beyond clocks that run at about the same rate (within the driver's
 * drift margin): a follower keeps its pledge across a restart. It does not (as in etcd):
 * restarted, it knows no leader and may vote at once, for a candidate whose log is as up to date
 * as its own. A hand-built search (a follower restarted within the lease while another, cut off
 * from the leader, campaigns) found no stale read in 456 runs, because the leader's writes leave
 * such a candidate's log behind; the gap is real when no write commits between the follower's
 * last acknowledgement and the election.
 */
import { invariant } from './errors.js';
import type { JointConfig } from './quorum/joint.js';

/** Bytes of a lease token in a heartbeat's context: round and send tick, float64 each. */
export const LEASE_TOKEN_BYTES = 16;

/** The heartbeat round a leader's lease rests on: the newest that counts and a quorum acknowledged. */
export interface LeaseBasis {
  /** The round's number; rounds are numbered from 1 in each term. */
  round: number;
  /** The leader tick the round was sent at. */
  sentAtTick: number;
}

export class LeaderLease {
  /** Heartbeat rounds sent so far this term. */
  private round = 0;
  /** Rounds at or below this one do not count (sent while a transfer was pending, or expired). */
  private floorRound = 0;
  private transferPending = false;
  /** Per voter: the newest round it acknowledged, and the tick that round was sent at. */
  private readonly acked = new Map<number, { round: number; tick: number }>();

  constructor(
    private readonly selfId: number,
    private readonly electionTimeout: number,
  ) {}

  /** Heartbeat rounds sent so far this term: the number of the newest. */
  get roundsSent(): number {
    return this.round;
  }

  /** Rounds at or below this one no longer count. */
  get expiredThrough(): number {
    return this.floorRound;
  }

  /**
   * Rounds up to `round` no longer count towards the lease: the driver measured them as sent
   * longer ago than a lease may last, or before a pause. A round not sent yet cannot be expired.
   */
  expireThrough(round: number): void {
    invariant(Number.isSafeInteger(round) && round >= 0 && round <= this.round, () => `expiring lease rounds through ${round}, but ${this.round} were sent`);
    if (round > this.floorRound) this.floorRound = round;
  }

  /** The token for a heartbeat round sent now, at leader tick `tick`. */
  nextToken(tick: number): Uint8Array {
    this.round++;
    const token = new Uint8Array(LEASE_TOKEN_BYTES);
    const view = new DataView(token.buffer);
    view.setFloat64(0, this.round);
    view.setFloat64(8, tick);
    return token;
  }

  /**
   * Records `from`'s acknowledgement of a heartbeat carrying `context`; returns whether it was a
   * lease token of this term.
   */
  ack(from: number, context: Uint8Array | undefined): boolean {
    if (context === undefined || context.length !== LEASE_TOKEN_BYTES) return false;
    const view = new DataView(context.buffer, context.byteOffset, context.byteLength);
    const round = view.getFloat64(0);
    const tick = view.getFloat64(8);
    if (!Number.isSafeInteger(round) || round < 1 || round > this.round || !Number.isSafeInteger(tick)) return false;
    const prev = this.acked.get(from);
    if (prev === undefined || round > prev.round) this.acked.set(from, { round, tick });
    return true;
  }

  /** A leadership transfer started: no round sent from now on counts, until it ends. */
  transferStarted(): void {
    this.transferPending = true;
  }

  /** The transfer ended without a new leader (aborted): rounds sent from now on count again. */
  transferEnded(): void {
    if (!this.transferPending) return;
    this.transferPending = false;
    this.floorRound = this.round;
  }

  /**
   * The round the lease rests on at tick `now`, or undefined when there is no lease. A leader that
   * is a quorum by itself rests it on no round of its own: then the round is the next one to be
   * sent, at `now`.
   */
  basis(config: JointConfig, now: number): LeaseBasis | undefined {
    if (!this.valid(config, now)) return undefined;
    // Ticks grow with rounds, so the quorum's round is one with the quorum's send tick (valid()).
    const round = config.committedIndex({
      ackedIndex: (id) => {
        if (id === this.selfId) return this.round + 1;
        const a = this.acked.get(id);
        return a === undefined || a.round <= this.floorRound ? undefined : a.round;
      },
    });
    if (round === this.round + 1) return { round, sentAtTick: now };
    let sentAtTick = now;
    for (const a of this.acked.values()) if (a.round === round) sentAtTick = a.tick;
    return { round, sentAtTick };
  }

  /** Whether the leader, at tick `now`, holds a lease over the voters of `config`. */
  valid(config: JointConfig, now: number): boolean {
    if (this.transferPending) return false;
    // Send ticks are kept one up, so that 0 (what the quorum computation gives when fewer than a
    // quorum acknowledged a round that counts) means "no lease". Ticks grow with rounds, so the
    // quorum's send tick is that of the newest round a quorum acknowledged.
    const sentAtPlusOne = config.committedIndex({
      ackedIndex: (id) => {
        if (id === this.selfId) return now + 1;
        const a = this.acked.get(id);
        return a === undefined || a.round <= this.floorRound ? undefined : a.tick + 1;
      },
    });
    return sentAtPlusOne > 0 && now - (sentAtPlusOne - 1) < this.electionTimeout - 1;
  }
}
