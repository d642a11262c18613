/**
 * The metrics hook: what RaftNode reports for monitoring, as plain calls, so that the core
 * package depends on no metrics library. `@pontoon/raft/prometheus` adapts it to prom-client
 * under etcd's metric names; any other backend implements this interface.
 *
 * Calls are cheap and synchronous and must not throw (a throwing hook is logged and ignored).
 * Durations are in seconds, measured with the node's Clock.
 */

/** How a proposal ended, for the proposal latency and failure counts. */
export type ProposalOutcome = 'applied' | 'failed' | 'unknown';

export interface RaftMetrics {
  /**
   * A proposal settled `seconds` after propose() was called: `applied` (resolved), `failed`
   * (certainly not applied: dropped, not the leader, timed out before reaching the log) or
   * `unknown` (ProposalOutcomeUnknownError).
   */
  proposalSettled(seconds: number, outcome: ProposalOutcome): void;
  /** Proposals waiting for their outcome on this node, after a change. */
  proposalsPending(count: number): void;
  /** A batch of `entries` committed entries was applied to the state machine in `seconds`. */
  entriesApplied(entries: number, seconds: number): void;
  /** The commit index known here and the index applied to the state machine, after an apply. */
  indexes(committed: number, applied: number): void;
  /** A durable (fsynced) write to the log store took `seconds` from issue to durable. */
  logSynced(seconds: number): void;
  /** The leader this node knows of changed (`undefined`: none); `isLeader`: it is this node. */
  leaderChanged(leaderId: number | undefined, isLeader: boolean): void;
  /** This node took a snapshot of `bytes` (captured, saved and compacted in `seconds`). */
  snapshotTaken(bytes: number, seconds: number): void;
  /** This node installed a snapshot of `bytes` from the leader, restoring it in `seconds`. */
  snapshotInstalled(bytes: number, seconds: number): void;
}
