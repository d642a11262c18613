/**
 * What RaftNode reports as it runs: typed events, named for what happened.
 */
import type { ConfState } from '../types.js';
import { StateType } from '../types.js';

/** A node's role in the Raft protocol. */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** The Role of a core StateType. */
export function roleOf(state: StateType): Role {
  switch (state) {
    case StateType.StateLeader:
      return 'leader';
    case StateType.StateCandidate:
      return 'candidate';
    case StateType.StatePreCandidate:
      return 'preCandidate';
    default:
      return 'follower';
  }
}

/** The membership as of the last applied entry, with the members' addresses. */
export interface Membership {
  voters: number[];
  learners: number[];
  /** Voters of the outgoing configuration; non-empty only during joint consensus. */
  votersOutgoing: number[];
  /** Voters that become learners when the joint configuration is left. */
  learnersNext: number[];
  /** Addresses of the members (and of nodes seeded through the options), by id. */
  addresses: Map<number, string>;
}

/** The event map of RaftNode (eventemitter3). Each listener receives one event object. */
export interface RaftNodeEvents {
  /** This node's role changed. */
  roleChanged: [event: { role: Role; previousRole: Role; term: number }];
  /** The leader this node knows of changed (`undefined`: none known). */
  leaderChanged: [event: { leaderId: number | undefined; previousLeaderId: number | undefined; term: number }];
  /** Committed entries up to `index` were applied to the state machine. */
  applied: [event: { index: number }];
  /** The node saved a snapshot of its state machine at `index` and compacted its log. */
  snapshotTaken: [event: { index: number; term: number; bytes: number }];
  /** The node replaced its state machine with a snapshot from the leader. */
  snapshotInstalled: [event: { index: number; term: number; bytes: number }];
  /** A membership change was applied (or a snapshot brought a new membership). */
  membershipChanged: [event: { index: number; membership: Membership }];
  /**
   * The configuration applied at `index` no longer has this node, as a voter or a learner in
   * either half of a joint configuration. Emitted once. The node keeps running (it may still
   * hand over leadership or answer a lagging peer); the application usually calls stop().
   */
  removed: [event: { index: number }];
  /**
   * Something failed that the node cannot recover from (storage, state machine); the node
   * stops itself after emitting this. Without a listener the error still reaches the logger,
   * every pending call, stop() (NodeFailedError) and status().
   */
  error: [error: Error];
  /**
   * No message arrived from any of `peers` for `silentMs` (several election timeouts): this
   * node is cut off, or deaf (a transport that does not listen, wrong addresses). Emitted once
   * until `reconnected`.
   */
  isolated: [event: { silentMs: number; peers: number[] }];
  /** A message arrived from `peerId` after `isolated`. */
  reconnected: [event: { peerId: number }];
}

/** The ConfState as a Membership (copies). */
export function membershipOf(cs: ConfState, addresses: ReadonlyMap<number, string>): Membership {
  return {
    voters: cs.voters.slice(),
    learners: cs.learners.slice(),
    votersOutgoing: cs.votersOutgoing.slice(),
    learnersNext: cs.learnersNext.slice(),
    addresses: new Map(addresses),
  };
}
