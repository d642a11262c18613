/**
 * Typed errors. Every error the library raises for a condition a caller can react to extends
 * PontoonError and carries a stable `code`. Invariant violations (bugs in Pontoon) are plain
 * `AssertionError`s: they mean the process state can no longer be trusted.
 */

/** The base class of every error Pontoon raises on purpose. */
export class PontoonError extends Error {
  /** A stable, machine-readable code (never reworded). */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A Config (or option set) that cannot work. `field` names the offending option. */
export class ConfigError extends PontoonError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('ERR_CONFIG', `invalid config: ${field}: ${message}`);
    this.field = field;
  }
}

/** A proposal was not appended to the log (no leader, forwarding disabled, transfer, too big). */
export class ProposalDroppedError extends PontoonError {
  constructor(message = 'raft proposal dropped') {
    super('ERR_PROPOSAL_DROPPED', message);
  }
}

/** A message given to step() that the core refuses (local-only type from the network, ...). */
export class StepError extends PontoonError {
  constructor(message: string) {
    super('ERR_STEP', message);
  }
}

/** The peer is unknown to the node (not in its configuration). */
export class StepPeerNotFoundError extends StepError {
  constructor(id: number) {
    super(`raft: cannot step as peer ${id} not found`);
  }
}

/** Requested index is older than the storage's first index: compacted away. */
export class CompactedError extends PontoonError {
  constructor(message = 'requested index is unavailable due to compaction') {
    super('ERR_COMPACTED', message);
  }
}

/** Requested snapshot is older than the one already stored. */
export class SnapOutOfDateError extends PontoonError {
  constructor(message = 'requested index is older than the existing snapshot') {
    super('ERR_SNAP_OUT_OF_DATE', message);
  }
}

/** Requested entries are beyond the storage's last index. */
export class UnavailableError extends PontoonError {
  constructor(message = 'requested entry at index is unavailable') {
    super('ERR_UNAVAILABLE', message);
  }
}

/** The storage's snapshot is being prepared and is not ready yet; try again later. */
export class SnapshotTemporarilyUnavailableError extends PontoonError {
  constructor(message = 'snapshot is temporarily unavailable') {
    super('ERR_SNAPSHOT_TEMPORARILY_UNAVAILABLE', message);
  }
}

/** A membership change that is not allowed (e.g. removing all voters, joint while joint). */
export class ConfChangeError extends PontoonError {
  constructor(message: string) {
    super('ERR_CONF_CHANGE', message);
  }
}

/** Bytes that do not decode into what they claim to be (a conf change, a message). */
export class DecodeError extends PontoonError {
  constructor(message: string) {
    super('ERR_DECODE', message);
  }
}

// RaftNode rejects with the errors below; each carries what a caller needs to react: where
// the leader is, whether a proposal may still take effect, which limit was crossed.

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

/** An internal invariant does not hold: a bug in Pontoon, never a caller's mistake. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = 'AssertionError';
  }
}

/** Throws AssertionError with `message` when `cond` is false. */
export function invariant(cond: boolean, message: string | (() => string)): asserts cond {
  if (!cond) throw new AssertionError(typeof message === 'string' ? message : message());
}
