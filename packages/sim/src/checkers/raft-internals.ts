/**
 * The checkers need to see a node's whole log (including entries not yet durable), which
 * RaftNode does not expose: it keeps its RawNode private. The simulator lives in the same
 * repository and is tested with it, so it reads the field directly, here and nowhere else.
 */
import type { RaftNode } from '@pontoon/raft';
import type { RawNode } from '@pontoon/raft/core';

/** The part of a node's log the checkers read. */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  term(i: number): number;
  committed: number;
}

/** The in-memory log (storage + unstable) of a running node. */
export function logOf(node: RaftNode): LogView {
  return (node as unknown as { rawNode: RawNode }).rawNode.raft.raftLog;
}

/** The current term of a running node. */
export function termOf(node: RaftNode): number {
  return (node as unknown as { rawNode: RawNode }).rawNode.raft.term;
}
