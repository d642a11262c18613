/**
 * How the leader replicates to one follower.
 *
 * Ported from etcd raft's `tracker/state.go`.
 */

export enum ProgressStateType {
  /**
   * The leader does not know where the follower's log matches its own: it sends at most one
   * append per heartbeat interval and waits for the answer (accept or reject with a hint).
   */
  StateProbe = 0,
  /**
   * The follower's log is known to match: the leader streams appends optimistically, bounded by
   * the inflight window.
   */
  StateReplicate = 1,
  /**
   * The follower needs entries the leader has compacted: a snapshot is on its way and appends
   * are paused until the follower reports back.
   */
  StateSnapshot = 2,
}

/** The state's name as etcd prints it ("StateProbe", ...). */
export function progressStateToString(s: ProgressStateType): string {
  return ProgressStateType[s] ?? `ProgressStateType(${s as number})`;
}
