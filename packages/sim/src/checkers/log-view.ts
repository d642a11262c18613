/**
 * The checkers need a node's whole log, entries not yet durable included: they read it through
 * RaftNode's public read-only view (RaftNode.log), never the core's internals.
 */
import type { RaftLogView, RaftNode } from '@pontoon/raft';

/** The part of a node's log the checkers read. */
export type LogView = Pick<RaftLogView, 'firstIndex' | 'lastIndex' | 'term' | 'committed'>;

/** The in-memory log (storage + unstable) of a running node. */
export function logOf(node: RaftNode): LogView {
  return node.log;
}
