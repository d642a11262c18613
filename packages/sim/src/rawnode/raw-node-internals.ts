/**
 * What the safety checker reads of a running node: its whole log (entries not yet durable
 * included), its term, vote, role and leader. All of it comes from RawNode's public read-only
 * views (`log`, `term`, `vote`, `lead`, `state`); this file gathers them in the shape the
 * checker was written against.
 */
import type { RaftLogView, RawNode, StateType } from '@pontoon/raft/core';

/** The in-memory log of a running node: storage followed by the unstable tail. */
export type RaftLogInternals = RaftLogView;

/** The role state of a running node. */
export interface RaftInternals {
  readonly term: number;
  readonly vote: number;
  readonly lead: number;
  readonly state: StateType;
  readonly raftLog: RaftLogInternals;
}

export function raftOf(rn: RawNode): RaftInternals {
  return {
    term: rn.term,
    vote: rn.vote,
    lead: rn.lead,
    state: rn.state,
    raftLog: rn.log,
  };
}
