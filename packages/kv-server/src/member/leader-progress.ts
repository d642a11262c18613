/**
 * The strict reconfiguration check's view in a pontoon-kv process (contact-view.ts): its own
 * when it leads, else the leader's, asked once at the leader's peer port; with no leader known,
 * or one that does not answer as leader, its own. No retries: etcd answers at once from what its
 * member sees, and a cluster without a reachable leader is refused either way.
 */
export function peerContactView(
  member: KvMember,
  link: TcpPeerLink,
  addressOf: (raftId: number) => string | undefined,
): ContactViewSource {
  return async (signal) => {
    const leader = member.raft.leaderId;
    const address = leader === undefined || leader === member.id ? undefined : addressOf(leader);
    if (address !== undefined) {
      const progress = await link.progressAt(address, AbortSignal.any([signal, AbortSignal.timeout(ASK_LEADER_ONCE_MS)]));
      if (progress?.contactMs !== undefined) return { viewer: progress.leaderId, contactMs: progress.contactMs };
    }
    return ownContactView(member);
  };
}

/**
 * MemberPromote's view of the leader's replication progress in a pontoon-kv process: its own
 * when it leads, else the leader's, asked at the leader's peer port (etcd forwards the promote to
 * the leader for the same reason: only the leader tracks each member's match index).
 */
import type { KvMember } from '@pontoon/kv';
import { EtcdError } from '../etcd-errors.js';
import { type ContactViewSource, ownContactView } from '../server/contact-view.js';
import { ownProgress, type LeaderProgressSource } from '../server/learner-readiness.js';
import type { TcpPeerLink } from './peer-port.js';

/** How long the contact view waits for the leader's answer before using the member's own. */
const ASK_LEADER_ONCE_MS = 2000;

/** How long to look for a leader that answers before giving up with etcd's "request timed out". */
const ASK_LEADER_MS = 5000;

export function peerLeaderProgress(
  member: KvMember,
  link: TcpPeerLink,
  addressOf: (raftId: number) => string | undefined,
  retryMs: number,
): LeaderProgressSource {
  return async (signal) => {
    const deadline = Date.now() + ASK_LEADER_MS;
    for (;;) {
      signal.throwIfAborted();
      const own = ownProgress(member);
      if (own !== undefined) return own;
      const leader = member.raft.leaderId;
      const address = leader === undefined ? undefined : addressOf(leader);
      if (address !== undefined) {
        // null: it no longer leads; undefined: unreachable. Either way, look again.
        const progress = await link.progressAt(address, signal);
        if (progress !== null && progress !== undefined) return progress;
      }
      if (Date.now() > deadline) throw new EtcdError(leader === undefined ? 'NoLeader' : 'Timeout');
      await new Promise((r) => setTimeout(r, retryMs));
    }
  };
}
