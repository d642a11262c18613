/**
 * etcd's rule for promoting a learner (etcdserver isLearnerReady): only the leader knows how far
 * each member's log is replicated, and a learner is promoted only once its match index is at
 * least 90% of the leader's own; before that MemberPromote answers ErrLearnerNotReady. A learner
 * far behind would otherwise become a voter that cannot vote usefully until it catches up, which
 * in a small cluster can cost the quorum.
 */
import type { KvMember } from '@pontoon/kv';
import { EtcdError } from '../etcd-errors.js';

/** etcd's readyPercent: the fraction of the leader's match index a learner must have reached. */
export const LEARNER_READY_FRACTION = 0.9;

/**
 * The leader's view of replication: its id, each member's match index (its own included), and
 * how long it has been in unbroken contact with each other member (RaftNode.peerContact(), for
 * the strict reconfiguration check).
 */
export interface ReplicationProgress {
  readonly leaderId: number;
  readonly matchIndex: Readonly<Record<number, number>>;
  /** Absent in an answer from a pontoon-kv that predates the strict reconfiguration check. */
  readonly contactMs?: Readonly<Record<number, number>>;
}

/**
 * Where a server gets the leader's ReplicationProgress: from its own member when it leads, from
 * the leader otherwise (pontoon-kv asks over the peer port).
 */
export type LeaderProgressSource = (signal: AbortSignal) => Promise<ReplicationProgress>;

/** Throws etcd's LearnerNotReady unless `learnerId` caught up; a member the leader does not track passes (as in etcd). */
export function checkLearnerReady(progress: ReplicationProgress, learnerId: number): void {
  const learnerMatch = progress.matchIndex[learnerId];
  if (learnerMatch === undefined) return;
  const leaderMatch = progress.matchIndex[progress.leaderId] ?? 0;
  if (learnerMatch < leaderMatch * LEARNER_READY_FRACTION) throw new EtcdError('LearnerNotReady');
}

/** This member's ReplicationProgress if it is the leader, else undefined. */
export function ownProgress(member: KvMember): ReplicationProgress | undefined {
  const status = member.raft.status();
  if (status.role !== 'leader') return undefined;
  const matchIndex: Record<number, number> = {};
  for (const [id, p] of Object.entries(status.progress)) matchIndex[Number(id)] = p.matchIndex;
  return { leaderId: status.id, matchIndex, contactMs: member.raft.peerContact() };
}

/**
 * The source for a member that can only answer for itself (no way to reach the leader): a
 * member that does not lead answers etcd's "not leader".
 */
export function localLeaderProgress(member: KvMember): LeaderProgressSource {
  return async () => {
    const own = ownProgress(member);
    if (own === undefined) throw new EtcdError(member.raft.leaderId === undefined ? 'NoLeader' : 'NotLeader');
    return own;
  };
}
