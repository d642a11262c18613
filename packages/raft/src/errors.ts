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
