/**
 * The leader's lease measured on the driver's monotonic clock, beside the core's count in ticks.
 *
 * The core counts the lease in ticks (leader-lease.ts), and a stopped process does not tick: a
 * leader frozen for seconds (a garbage-collection pause, SIGSTOP, a suspended VM) resumes with
 * a lease that seems barely started, while the followers' pledges ran out long ago and another
 * leader took writes. Reads it answered from that lease before it heard of the new term were
 * stale (issue 17). The monotonic clock (Clock.now(), performance.now() in production) keeps
 * running while the process is stopped, so the driver records when each heartbeat round left,
 * and before anything reaches the core that could answer a read from the lease (a read, a
 * message, a response), it expires in the core every round sent `leaseMs` or longer ago:
 *
 *   leaseMs = (electionTicks - 1) * tickMs * (1 - driftMargin)
 *
 * A follower that acknowledged a round refuses other candidates until its electionTicks-th tick
 * after receiving it, which comes at least (electionTicks - 1) tick periods later (its next tick
 * may come at once). Measured from the send, that pledge outlasts leaseMs as long as each
 * node's clock and timers run within the drift margin of the others' rate: a leader's clock
 * slow by d and a follower's fast by d stay safe while (1 - d) / (1 + d) >= 1 - driftMargin.
 * Pauses of any length are allowed; a follower paused only keeps its pledge longer.
 *
 * After a pause (the tick timer overdue by more than a tick period), every round sent before it
 * is expired too: the lease then rests only on a round sent after the pause, acknowledged by a
 * quorum. Those acknowledgements come behind whatever their senders sent meanwhile, and every
 * later leader was elected by a quorum that shares a member with them: the messages that depose
 * this leader are handled before it serves anything from its lease again.
 *
 * Without a lease that holds on both clocks, the core makes a read wait for a new heartbeat
 * round acknowledged by a quorum: ReadIndex's guarantee, at ReadIndex's cost.
 */
import type { RawNode } from '../raw-node.js';
import type { Clock } from './clock.js';

/** What the lease's length in real time is computed from. */
export interface LeaseClockOptions {
  tickMs: number;
  electionTicks: number;
  /** The share of the lease given up to clock drift and timer error, in [0, 1). */
  driftMargin: number;
}

/** What the lease clock needs of the core: a RawNode. */
export type LeaseRounds = Pick<RawNode, 'leaseRoundsSent' | 'expireLeaseRounds' | 'term'>;

/** One or more heartbeat rounds that left together: the newest of them, and when. */
interface SentRounds {
  round: number;
  at: number;
}

export class LeaseClock {
  /** How long after its send a round may back the lease, ms of the monotonic clock. */
  readonly leaseMs: number;
  /** A tick timer later than this (ms after the last tick) means the process was stopped or stalled. */
  private readonly pauseMs: number;
  /** The term of the rounds recorded. */
  private term = 0;
  /** The newest round recorded in `term`. */
  private recorded = 0;
  /** Rounds recorded and not yet expired, oldest first. */
  private sent: SentRounds[] = [];
  private lastTickAt: number;

  constructor(
    private readonly rawNode: LeaseRounds,
    private readonly clock: Clock,
    o: LeaseClockOptions,
  ) {
    this.leaseMs = (o.electionTicks - 1) * o.tickMs * (1 - o.driftMargin);
    this.pauseMs = 2 * o.tickMs;
    this.lastTickAt = clock.now();
  }

  /**
   * Called with each Ready, before its messages are handed to the transport: the rounds created
   * since the last call leave now (later than the core created them, which only shortens the
   * lease).
   */
  sending(): void {
    const rounds = this.rawNode.leaseRoundsSent();
    if (rounds === 0) return;
    const term = this.rawNode.term;
    if (term !== this.term) this.reset(term);
    if (rounds <= this.recorded) return;
    this.recorded = rounds;
    this.sent.push({ round: rounds, at: this.clock.now() });
  }

  /** Called before the core is given anything that could answer a read from the lease. */
  guard(): void {
    if (this.sent.length === 0) return;
    const now = this.clock.now();
    const paused = now - this.lastTickAt > this.pauseMs;
    if (!paused && now - this.sent[0]!.at < this.leaseMs) return;
    if (this.rawNode.leaseRoundsSent() === 0 || this.rawNode.term !== this.term) {
      // No longer the leader of the term recorded: its rounds are gone with its lease.
      this.sent = [];
      return;
    }
    let through = 0;
    let keep = 0;
    while (keep < this.sent.length && (paused || now - this.sent[keep]!.at >= this.leaseMs)) {
      through = this.sent[keep]!.round;
      keep++;
    }
    this.sent = this.sent.slice(keep);
    this.rawNode.expireLeaseRounds(through);
  }

  /** Called as the tick timer fires, before the core ticks. */
  ticked(): void {
    this.guard();
    this.lastTickAt = this.clock.now();
  }

  private reset(term: number): void {
    this.term = term;
    this.recorded = 0;
    this.sent = [];
  }
}
