/**
 * MemberPromote's view of the leader's replication progress in a pontoon-kv process: its own
 * when it leads, else the leader's, asked at the leader's peer port (etcd forwards the promote to
 * the leader for the same reason: only the leader tracks each member's match index).
 */
import type { KvMember } from '@pontoon/kv';
import { EtcdError } from '../etcd-errors.js';
import { ownProgress, type LeaderProgressSource } from '../server/learner-readiness.js';
import type { TcpPeerLink } from './peer-port.js';

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
