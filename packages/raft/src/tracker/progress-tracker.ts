/**
 * The leader's bookkeeping of the cluster: the active configuration, every peer's progress,
 * and the votes of the current election.
 *
 * Ported from etcd raft's `tracker/tracker.go`.
 */

import type { ConfState } from '../types.js';
import { JointConfig } from '../quorum/joint.js';
import { MajorityConfig, sortedIds } from '../quorum/majority.js';
import { type AckedIndexer, type Index, VoteResult } from '../quorum/quorum.js';
import type { Progress, ProgressMap } from './progress.js';

/**
 * The membership configuration a ProgressTracker works with.
 *
 * Invariant: learners and voters (of either half) do not intersect. A voter that is being
 * demoted while in joint consensus is still a voter of the outgoing half, so it waits in
 * `learnersNext` and becomes a learner when the joint configuration is left:
 *
 *     voters: (1 2 3)           -> demote 3 ->   voters: (1 2)&&(1 2 3)  learners_next: (3)
 *     -> leave joint ->         voters: (1 2)    learners: (3)
 *
 * A learner that was not a voter is added to `learners` at once, so that it catches up as soon
 * as possible.
 */
export class TrackerConfig {
  voters: JointConfig;
  /**
   * Whether the joint configuration is left automatically once it is committed. Only true
   * while joint; otherwise the application leaves it with an empty ConfChangeV2.
   */
  autoLeave: boolean;
  /** The learners, or null when there are none (as etcd keeps a nil map). */
  learners: Set<number> | null;
  /** Voters of the outgoing half that become learners on leaving joint; null when none. */
  learnersNext: Set<number> | null;

  constructor(init?: {
    voters?: JointConfig;
    autoLeave?: boolean;
    learners?: Set<number> | null;
    learnersNext?: Set<number> | null;
  }) {
    this.voters = init?.voters ?? new JointConfig();
    this.autoLeave = init?.autoLeave ?? false;
    this.learners = init?.learners ?? null;
    this.learnersNext = init?.learnersNext ?? null;
  }

  /** `voters=(1 2 3)&&(1 2) learners=(4) learners_next=(5) autoleave`, as etcd prints it. */
  toString(): string {
    let buf = `voters=${this.voters.toString()}`;
    if (this.learners !== null) buf += ` learners=${new MajorityConfig(this.learners).toString()}`;
    if (this.learnersNext !== null) buf += ` learners_next=${new MajorityConfig(this.learnersNext).toString()}`;
    if (this.autoLeave) buf += ' autoleave';
    return buf;
  }

  /** A copy that shares no memory with this one. */
  clone(): TrackerConfig {
    return new TrackerConfig({
      voters: this.voters.clone(),
      autoLeave: this.autoLeave,
      learners: this.learners === null ? null : new Set(this.learners),
      learnersNext: this.learnersNext === null ? null : new Set(this.learnersNext),
    });
  }
}

/** Reads the voters' match indexes for quorum arithmetic. */
class MatchAckIndexer implements AckedIndexer {
  progress: ProgressMap;
  constructor(progress: ProgressMap) {
    this.progress = progress;
  }
  ackedIndex(voterId: number): Index | undefined {
    return this.progress.get(voterId)?.match;
  }
}

/**
 * Tracks the active configuration and what is known of each peer in it. In particular it
 * holds each peer's match index, from which the committed index follows.
 */
export class ProgressTracker {
  config: TrackerConfig;
  /** Votes received in the current election, by voter id (true = granted). */
  votes: Map<number, boolean>;
  /** The most append messages in flight to one peer. */
  readonly maxInflight: number;
  /** The most bytes in flight to one peer (0: no limit). */
  readonly maxInflightBytes: number;

  private progressMap: ProgressMap;
  /** Ids of progressMap in ascending order; null when it must be recomputed. Never mutated. */
  private sortedIds: number[] | null = null;
  /** Reused by committed() so that the hot path allocates nothing. */
  private readonly matchIndexer: MatchAckIndexer;

  constructor(maxInflight: number, maxInflightBytes: number) {
    this.maxInflight = maxInflight;
    this.maxInflightBytes = maxInflightBytes;
    this.config = new TrackerConfig();
    this.votes = new Map();
    this.progressMap = new Map();
    this.matchIndexer = new MatchAckIndexer(this.progressMap);
  }

  /**
   * The progress of every tracked peer. Replace the map as a whole to change membership (as
   * the membership changer's results are applied); in-place edits are detected too, at the
   * cost of recomputing the visiting order.
   */
  get progress(): ProgressMap {
    return this.progressMap;
  }

  set progress(m: ProgressMap) {
    this.progressMap = m;
    this.matchIndexer.progress = m;
    this.sortedIds = null;
  }

  /** The active configuration as a ConfState, every list in ascending order. */
  confState(): ConfState {
    const c = this.config;
    return {
      voters: c.voters.incoming.slice(),
      votersOutgoing: c.voters.outgoing.slice(),
      learners: c.learners === null ? [] : sortedIds(c.learners),
      learnersNext: c.learnersNext === null ? [] : sortedIds(c.learnersNext),
      autoLeave: c.autoLeave,
    };
  }

  /** Whether the configuration has exactly one voter (the leader) and is not joint. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /**
   * The largest index known to be committed from what the voters have acknowledged. With no
   * voters at all this is INDEX_INFINITY.
   */
  committed(): number {
    return this.config.voters.committedIndex(this.matchIndexer);
  }

  /**
   * Calls `f` for every tracked peer in ascending id order. The order is part of behaviour:
   * messages to peers are emitted in it. The sorted ids are cached, as this runs on every
   * broadcast.
   */
  visit(f: (id: number, pr: Progress) => void): void {
    const m = this.progressMap;
    let ids = this.sortedIds;
    if (ids !== null && !sameIds(ids, m)) ids = null;
    if (ids === null) {
      ids = sortedIds(m.keys());
      this.sortedIds = ids;
    }
    // `ids` is never mutated once cached, so `f` may change membership (or visit again)
    // without disturbing this loop; peers removed meanwhile are skipped.
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const pr = m.get(id);
      if (pr !== undefined) f(id, pr);
    }
  }

  /**
   * Whether a quorum of voters has been active recently, as seen by the leader (CheckQuorum):
   * learners do not count.
   */
  quorumActive(): boolean {
    const votes = new Map<number, boolean>();
    this.visit((id, pr) => {
      if (!pr.isLearner) votes.set(id, pr.recentActive);
    });
    return this.config.voters.voteResult(votes) === VoteResult.VoteWon;
  }

  /** The voters of both halves, ascending. */
  voterNodes(): number[] {
    return sortedIds(this.config.voters.ids());
  }

  /** The learners, ascending. */
  learnerNodes(): number[] {
    const l = this.config.learners;
    return l === null || l.size === 0 ? [] : sortedIds(l);
  }

  /** Starts a new round of vote counting. */
  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records the vote of `id` (true = granted). Only a voter's first vote of a round counts. */
  recordVote(id: number, v: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, v);
  }

  /**
   * The granted and rejected votes among tracked voters (informational), and the outcome of
   * the election so far.
   */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    // Count only members, even if votes holds some from peers that were removed since.
    for (const [id, pr] of this.progressMap) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: this.config.voters.voteResult(this.votes) };
  }
}

/** Whether `ids` (distinct) are exactly the keys of `m`. */
function sameIds(ids: readonly number[], m: ProgressMap): boolean {
  if (ids.length !== m.size) return false;
  for (let i = 0; i < ids.length; i++) if (!m.has(ids[i]!)) return false;
  return true;
}
