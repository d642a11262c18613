/**
 * Errors in interaction scenarios. etcd's harness prints `err.Error()`; the conformance rules
 * ask that we fail the same way, not with the same words. So each of our typed errors is
 * rendered as the text of the etcd error of the same kind, and anything we cannot map renders
 * as its class and message, which no scenario expects: it shows up as a mismatch.
 */
import {
  CompactedError,
  ConfChangeError,
  PontoonError,
  ProposalDroppedError,
  SnapOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  StepError,
  StepPeerNotFoundError,
  UnavailableError,
} from '../../src/errors.js';

/**
 * An error of the harness itself that etcd's harness returns as an error value (and so prints
 * as command output), e.g. a bad argument value or an unknown command. Its message is etcd's.
 */
export class HarnessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HarnessError';
  }
}

/** Whether `e` is an error etcd's harness would print (rather than abort the test on). */
export function isReportableError(e: unknown): e is Error {
  return e instanceof PontoonError || e instanceof HarnessError;
}

/** etcd's error text for the kind of error `e` is. */
export function etcdErrorText(e: Error): string {
  if (e instanceof HarnessError) return e.message;
  if (e instanceof ProposalDroppedError) return 'raft proposal dropped';
  if (e instanceof StepPeerNotFoundError) return 'raft: cannot step as peer not found';
  // The only other error RawNode.Step returns in etcd.
  if (e instanceof StepError) return 'raft: cannot step raft local message';
  if (e instanceof CompactedError) return 'requested index is unavailable due to compaction';
  if (e instanceof SnapOutOfDateError) return 'requested index is older than the existing snapshot';
  if (e instanceof UnavailableError) return 'requested entry at index is unavailable';
  if (e instanceof SnapshotTemporarilyUnavailableError) return 'snapshot is temporarily unavailable';
  // etcd's confchange errors are free-form text; none appears in the scenarios we run, so any
  // wording of ours is as good as theirs.
  if (e instanceof ConfChangeError) return e.message;
  return `<unmapped ${e.name}: ${e.message}>`;
}
