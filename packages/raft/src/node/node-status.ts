/**
 * What RaftNode.status() reports: the core's state in the driver's terms, with the applied
 * index as the state machine has it and each peer's replication progress on the leader. Plain
 * data (no Maps, no classes): JSON.stringify keeps all of it, for logs and health endpoints.
 */
import { ProgressStateType } from '../tracker/state.js';
import { None } from '../types.js';
import type { Role } from './events.js';
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

/** The membership in status(): as Membership, with the addresses as a plain object by id. */
export interface MembershipStatus {
  voters: number[];
  learners: number[];
  /** Voters of the outgoing configuration; non-empty only during joint consensus. */
  votersOutgoing: number[];
  /** Voters that become learners when the joint configuration is left. */
  learnersNext: number[];
  addresses: Record<number, string>;
}

/** The error that stopped the node, as data. */
export interface NodeFailure {
  name: string;
  /** The PontoonError code, when the error has one. */
  code: string | undefined;
  message: string;
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
  membership: MembershipStatus;
  /** Per-peer replication progress by peer id; filled in on the leader only. */
  progress: Record<number, PeerProgress>;
  /** Whether the node is stopped (stop() was called, or a failure stopped it). */
  stopped: boolean;
  /** The error that stopped the node, if one did. */
  failure: NodeFailure | undefined;
}

const PROGRESS_STATE: Record<ProgressStateType, PeerProgress['state']> = {
  [ProgressStateType.StateProbe]: 'probe',
  [ProgressStateType.StateReplicate]: 'replicate',
  [ProgressStateType.StateSnapshot]: 'snapshot',
};

function codeOf(err: Error): string | undefined {
  const code = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The node's status now. */
export function nodeStatus<SM extends StateMachine>(ctx: NodeContext<SM>): RaftNodeStatus {
  const st = ctx.rawNode.status();
  const progress: Record<number, PeerProgress> = {};
  for (const [id, pr] of st.progress) {
    progress[id] = {
      matchIndex: pr.match,
      nextIndex: pr.next,
      state: PROGRESS_STATE[pr.state],
      recentActive: pr.recentActive,
      isLearner: pr.isLearner,
      pendingSnapshot: pr.pendingSnapshot,
    };
  }
  const m = ctx.membership.membership();
  const failure = ctx.shutdown.failure;
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
    membership: {
      voters: m.voters,
      learners: m.learners,
      votersOutgoing: m.votersOutgoing,
      learnersNext: m.learnersNext,
      addresses: Object.fromEntries(m.addresses),
    },
    progress,
    stopped: ctx.stopped,
    failure: failure === undefined ? undefined : { name: failure.name, code: codeOf(failure), message: failure.message },
  };
}
