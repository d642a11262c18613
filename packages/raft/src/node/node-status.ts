/**
 * What RaftNode.status() reports: the core's state in the driver's terms, with the applied
 * index as the state machine has it and each peer's replication progress on the leader.
 */
import { ProgressStateType } from '../tracker/state.js';
import { None } from '../types.js';
import type { Membership, Role } from './events.js';
import { roleOf } from './events.js';
import type { NodeContext } from './node-context.js';
import type { StateMachine } from './state-machine.js';

/** How the leader replicates to one peer (status(), on the leader only). */
export interface PeerProgress {
  /** The highest index known to be replicated on the peer. */
  matchIndex: number;
  /** The next index the leader sends. */
  nextIndex: number;
  state: 'probe' | 'replicate' | 'snapshot';
  /** Whether the peer was heard from within the current election timeout. */
  recentActive: boolean;
  isLearner: boolean;
  /** The index of the snapshot in flight to the peer (state 'snapshot'), else 0. */
  pendingSnapshot: number;
}

/** What status() reports. */
export interface RaftNodeStatus {
  id: number;
  term: number;
  /** The node this one voted for in `term` (undefined: none). */
  vote: number | undefined;
  role: Role;
  leaderId: number | undefined;
  commitIndex: number;
  /** The last index applied to the state machine. */
  appliedIndex: number;
  /** The index of the latest snapshot this node took or installed (0: none). */
  snapshotIndex: number;
  /** The id a leadership transfer is in progress to (leader only). */
  leadTransferee: number | undefined;
  membership: Membership;
  /** Per-peer replication progress; filled in on the leader only. */
  progress: Map<number, PeerProgress>;
}

const PROGRESS_STATE: Record<ProgressStateType, PeerProgress['state']> = {
  [ProgressStateType.StateProbe]: 'probe',
  [ProgressStateType.StateReplicate]: 'replicate',
  [ProgressStateType.StateSnapshot]: 'snapshot',
};

/** The node's status now. */
export function nodeStatus<SM extends StateMachine>(ctx: NodeContext<SM>): RaftNodeStatus {
  const st = ctx.rawNode.status();
  const progress = new Map<number, PeerProgress>();
  for (const [id, pr] of st.progress) {
    progress.set(id, {
      matchIndex: pr.match,
      nextIndex: pr.next,
      state: PROGRESS_STATE[pr.state],
      recentActive: pr.recentActive,
      isLearner: pr.isLearner,
      pendingSnapshot: pr.pendingSnapshot,
    });
  }
  return {
    id: ctx.id,
    term: st.hardState.term,
    vote: st.hardState.vote === None ? undefined : st.hardState.vote,
    role: roleOf(st.softState.raftState),
    leaderId: st.softState.lead === None ? undefined : st.softState.lead,
    commitIndex: st.hardState.commit,
    appliedIndex: ctx.applying.appliedIndex,
    snapshotIndex: ctx.snapshots.snapshotIndex,
    leadTransferee: st.leadTransferee === None ? undefined : st.leadTransferee,
    membership: ctx.membership.membership(),
    progress,
  };
}
