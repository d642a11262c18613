/**
 * The leader's view of one follower's log: how far it matches, what to send next, and how the
 * flow of appends to it is throttled.
 *
 * Ported from etcd raft's `tracker/progress.go` (the v3.6 line: sentCommit, MsgAppFlowPaused).
 */

import { invariant } from '../errors.js';
import { Inflights } from './inflights.js';
import { ProgressStateType, progressStateToString } from './state.js';

/** The fields of a Progress; anything left out takes its zero value. */
export interface ProgressInit {
  match?: number;
  next?: number;
  sentCommit?: number;
  state?: ProgressStateType;
  pendingSnapshot?: number;
  recentActive?: boolean;
  msgAppFlowPaused?: boolean;
  inflights: Inflights;
  isLearner?: boolean;
}

/**
 * A follower's progress as the leader sees it: Raft's matchIndex and nextIndex (§5.3), plus the
 * flow control state etcd adds on top. Most transitions are driven by the leader's step
 * function; this class owns the rules of each transition.
 */
export class Progress {
  /**
   * The index up to which the follower's log is known to match the leader's (matchIndex).
   * Invariant: 0 <= match < next.
   */
  match: number;
  /**
   * The index of the next entry to send (nextIndex). Entries in (match, next) are in flight.
   * In StateSnapshot, next == pendingSnapshot + 1.
   */
  next: number;
  /**
   * The highest commit index sent to the follower. Mostly monotonic, but regresses when the
   * follower falls back to probing or rejects an append, since what was sent then likely was
   * not applied. In StateSnapshot, sentCommit == pendingSnapshot == next - 1.
   */
  sentCommit: number;
  /** How the leader replicates to this follower. */
  state: ProgressStateType;
  /**
   * In StateSnapshot: the leader's last index when it decided a snapshot was needed (the index
   * of the MsgSnap it sent). Appends stay paused while a snapshot is pending.
   */
  pendingSnapshot: number;
  /**
   * Whether the follower was heard from recently (any message counts). Reset after an election
   * timeout for CheckQuorum; always true for the leader itself.
   */
  recentActive: boolean;
  /**
   * Whether appends to this follower are throttled: after a probe in StateProbe, or when the
   * inflight window is saturated in StateReplicate. An append is still sent now and then (when
   * a heartbeat response clears the flag) so that the flow is eventually accepted or rejected.
   */
  msgAppFlowPaused: boolean;
  /** The window of appends in flight, bounded by count and bytes. */
  inflights: Inflights;
  /** Whether this progress tracks a learner (a non-voting member). */
  isLearner: boolean;

  constructor(init: ProgressInit) {
    this.match = init.match ?? 0;
    this.next = init.next ?? 0;
    this.sentCommit = init.sentCommit ?? 0;
    this.state = init.state ?? ProgressStateType.StateProbe;
    this.pendingSnapshot = init.pendingSnapshot ?? 0;
    this.recentActive = init.recentActive ?? false;
    this.msgAppFlowPaused = init.msgAppFlowPaused ?? false;
    this.inflights = init.inflights;
    this.isLearner = init.isLearner ?? false;
  }

  /** A copy that shares no memory with this one (the inflight window is copied too). */
  clone(): Progress {
    return new Progress({ ...this, inflights: this.inflights.clone() });
  }

  /** Moves to `state`, clearing the flow control state that belongs to the previous one. */
  resetState(state: ProgressStateType): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /**
   * Falls back to probing from match + 1. Coming from StateSnapshot, the snapshot is known to
   * have been delivered, so probing starts after it if that is further.
   */
  becomeProbe(): void {
    if (this.state === ProgressStateType.StateSnapshot) {
      const pendingSnapshot = this.pendingSnapshot;
      this.resetState(ProgressStateType.StateProbe);
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.resetState(ProgressStateType.StateProbe);
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  /** Starts streaming appends from match + 1. */
  becomeReplicate(): void {
    this.resetState(ProgressStateType.StateReplicate);
    this.next = this.match + 1;
  }

  /** Waits for a snapshot at `snapshoti` to be delivered; the snapshot carries its commit. */
  becomeSnapshot(snapshoti: number): void {
    this.resetState(ProgressStateType.StateSnapshot);
    this.pendingSnapshot = snapshoti;
    this.next = snapshoti + 1;
    this.sentCommit = snapshoti;
  }

  /**
   * Records an append of `entries` consecutive entries (`bytes` in total) starting at `next`.
   * Only valid in StateProbe and StateReplicate.
   */
  sentEntries(entries: number, bytes: number): void {
    switch (this.state) {
      case ProgressStateType.StateReplicate:
        if (entries > 0) {
          this.next += entries;
          this.inflights.add(this.next - 1, bytes);
        }
        // A message that fills the window (or is sent while it is full) counts as a probe:
        // pause until the follower answers or a heartbeat response arrives.
        this.msgAppFlowPaused = this.inflights.full();
        break;
      case ProgressStateType.StateProbe:
        // Only a probe that carries entries pauses the flow (etcd's behaviour; any probe could).
        if (entries > 0) this.msgAppFlowPaused = true;
        break;
      default:
        invariant(false, () => `sending append in unhandled state ${progressStateToString(this.state)}`);
    }
  }

  /**
   * Whether sending commit index `index` may advance the follower's commit index. The follower
   * can commit at most up to next - 1 (what it has), so once a commit index that covers that
   * has been sent, there is nothing to gain from sending another.
   */
  canBumpCommit(index: number): boolean {
    return index > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** Records that commit index `commit` was sent (etcd's `SentCommit`). */
  setSentCommit(commit: number): void {
    this.sentCommit = commit;
  }

  /**
   * Handles an append acknowledgement up to `n`. Returns false when the acknowledgement is
   * stale (not beyond match), otherwise advances match (and next if needed) and unpauses.
   */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1); // invariant: match < next
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * Handles a rejected append at index `rejected`, with the follower's hint `matchHint` (the
   * index up to which its log may match). Returns false when the rejection is stale (messages
   * get reordered and duplicated) and leaves the progress alone; otherwise lowers next and
   * clears the follower for sending.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressStateType.StateReplicate) {
      // A rejection at or below match is stale: match is known to be good.
      if (rejected <= this.match) return false;
      // In StateReplicate the log matches up to match, so restart right after it.
      this.next = this.match + 1;
      // What was sent likely was not applied.
      this.sentCommit = Math.min(this.sentCommit, this.next - 1);
      return true;
    }

    // Probes go out one at a time, so a rejection of anything but the last probe (next - 1) is
    // stale. Best effort: it assumes reordering is rare.
    if (this.next - 1 !== rejected) return false;

    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * Whether appends to this follower are throttled: it rejected recently, waits for a
   * snapshot, or its inflight window is saturated.
   */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressStateType.StateProbe:
      case ProgressStateType.StateReplicate:
        return this.msgAppFlowPaused;
      case ProgressStateType.StateSnapshot:
        return true;
      default:
        invariant(false, () => `unexpected progress state ${this.state as number}`);
    }
  }

  /**
   * One line, exactly as etcd prints a Progress, e.g.
   * `StateReplicate match=14 next=15 learner paused pendingSnap=4 inactive inflight=2[full]`.
   */
  toString(): string {
    let buf = `${progressStateToString(this.state)} match=${this.match} next=${this.next}`;
    if (this.isLearner) buf += ' learner';
    if (this.isPaused()) buf += ' paused';
    if (this.pendingSnapshot > 0) buf += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) buf += ' inactive';
    const n = this.inflights.count();
    if (n > 0) {
      buf += ` inflight=${n}`;
      if (this.inflights.full()) buf += '[full]';
    }
    return buf;
  }
}

/** The progress of every tracked peer (voters and learners), by id. */
export type ProgressMap = Map<number, Progress>;

/** One `id: progress` line per peer in ascending id order, as etcd's ProgressMap.String(). */
export function progressMapToString(m: ReadonlyMap<number, Progress>): string {
  const ids = Array.from(m.keys()).sort((a, b) => a - b);
  let buf = '';
  for (const id of ids) buf += `${id}: ${m.get(id)!.toString()}\n`;
  return buf;
}
