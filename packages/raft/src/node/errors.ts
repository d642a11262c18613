/**
 * The errors RaftNode rejects with. Each carries what a caller needs to react: where the leader
 * is, whether a proposal may still take effect, which limit was crossed.
 */
import { PontoonError } from '../errors.js';

/** Only the leader accepts proposals and membership changes; this node is not it. */
export class NotLeaderError extends PontoonError {
  /** The current leader's id, when this node knows it. */
  readonly leaderId: number | undefined;
  /** The current leader's address (as given when it joined), when known. */
  readonly leaderAddress: string | undefined;
  constructor(leaderId: number | undefined, leaderAddress: string | undefined) {
    super(
      'ERR_NOT_LEADER',
      leaderId === undefined
        ? 'not the leader, and no leader is known (an election may be in progress)'
        : `not the leader; the leader is node ${leaderId}${leaderAddress === undefined ? '' : ` at ${leaderAddress}`}`,
    );
    this.leaderId = leaderId;
    this.leaderAddress = leaderAddress;
  }
}

/**
 * Why a proposal's outcome is unknown: the caller stopped waiting (`timeout`, `aborted`), the
 * node stopped (`stopped`), or the node jumped past the entry by installing a snapshot and so
 * never saw which entry won the index (`snapshot`).
 */
export type OutcomeUnknownReason = 'timeout' | 'aborted' | 'stopped' | 'snapshot';

/**
 * The proposal entered the log at (`index`, `term`) (or, `index` 0, was forwarded to the leader
 * of `term`, which may have appended it) but whether it commits was not decided when the caller
 * stopped waiting. It may have been applied, or may still be: do not treat it as
 * failed. Retry only if the command is idempotent (or deduplicated by the state machine).
 * `cause` holds the TimeoutError or the AbortSignal's reason when there is one.
 */
export class ProposalOutcomeUnknownError extends PontoonError {
  readonly index: number;
  readonly term: number;
  readonly reason: OutcomeUnknownReason;
  constructor(index: number, term: number, reason: OutcomeUnknownReason, cause?: unknown) {
    super(
      'ERR_PROPOSAL_OUTCOME_UNKNOWN',
      `the outcome of the proposal ${index === 0 ? `forwarded to the leader in term ${term}` : `at index ${index} (term ${term})`} is unknown (${reason}): it may still be applied`,
      cause === undefined ? undefined : { cause },
    );
    this.index = index;
    this.term = term;
    this.reason = reason;
  }
}

/**
 * An operation did not finish in time. When this is the rejection of a proposal, the proposal
 * was never appended to the log (otherwise the rejection is a ProposalOutcomeUnknownError).
 */
export class TimeoutError extends PontoonError {
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super('ERR_TIMEOUT', `${what} timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The node is stopped (or stopped while the operation waited, before it took effect). */
export class NodeStoppedError extends PontoonError {
  constructor(message = 'the raft node is stopped', options?: { cause?: unknown }) {
    super('ERR_NODE_STOPPED', message, options);
  }
}

/** A command larger than the node's `maxCommandBytes`; it was not proposed. */
export class CommandTooLargeError extends PontoonError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super('ERR_COMMAND_TOO_LARGE', `command of ${size} bytes exceeds maxCommandBytes (${limit})`);
    this.size = size;
    this.limit = limit;
  }
}

/** A command that cannot be proposed: not a Uint8Array, or empty (empty entries are Raft's own). */
export class InvalidCommandError extends PontoonError {
  constructor(message: string) {
    super('ERR_INVALID_COMMAND', message);
  }
}

/** forceNewCluster() cannot recover from this store (the node is not a member, the store is empty). */
export class RecoveryError extends PontoonError {
  constructor(message: string) {
    super('ERR_RECOVERY', message);
  }
}

/**
 * An on-disk state machine is behind the LogStore's snapshot and has no staged copy of it to
 * install: the entries in between are gone from the log, so this node cannot rebuild its state.
 * Remove the node's data (log and state machine) and add it back as a new member.
 */
export class StateMachineBehindError extends PontoonError {
  readonly position: number;
  readonly snapshotIndex: number;
  constructor(position: number, snapshotIndex: number, cause?: unknown) {
    super(
      'ERR_STATE_MACHINE_BEHIND',
      `the state machine is at index ${position}, behind the log's snapshot at ${snapshotIndex}, and cannot install it`,
      cause === undefined ? undefined : { cause },
    );
    this.position = position;
    this.snapshotIndex = snapshotIndex;
  }
}

/**
 * The node stopped itself after an error it cannot recover from (a state machine that threw,
 * a store that failed a write); `cause` is that error. stop() rejects with it, so that a failure
 * nobody listened for still surfaces.
 */
export class NodeFailedError extends PontoonError {
  constructor(cause: Error) {
    super('ERR_NODE_FAILED', `the raft node stopped after an unrecoverable error: ${cause.message}`, { cause });
  }
}

/** The transport's listen() failed when the node started it; the node stopped. */
export class TransportListenError extends PontoonError {
  constructor(cause: unknown) {
    super('ERR_TRANSPORT_LISTEN', `the transport could not listen: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
