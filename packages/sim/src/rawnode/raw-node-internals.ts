/**
 * The safety checker needs a running node's whole log (entries not yet durable included), its
 * term, vote, role and leader, which RawNode keeps inside. The simulator lives in the same
 * repository and is tested with it, so it reads them here and nowhere else.
 */
import type { Entry, RawNode, StateType } from '@pontoon/raft/core';

/** The in-memory log of a running node: storage followed by the unstable tail. */
export interface RaftLogInternals {
  committed: number;
  applied: number;
  firstIndex(): number;
  lastIndex(): number;
  term(i: number): number;
  slice(lo: number, hi: number, maxSize: number): Entry[];
}

/** The role state of a running node. */
export interface RaftInternals {
  term: number;
  vote: number;
  lead: number;
  state: StateType;
  raftLog: RaftLogInternals;
}

export function raftOf(rn: RawNode): RaftInternals {
  return (rn as unknown as { raft: RaftInternals }).raft;
}
