/**
 * The strict reconfiguration check's view in a pontoon-kv process (server/contact-view.ts).
 * Which members are up is the leader's to say: its own view when it leads, else asked once at
 * the leader's peer port; with no leader known, or one that does not answer as leader, the
 * member's own. How long each is up takes one more question: the leader has heard from its
 * followers only since its election, so each voter it hears is asked at its peer port for its
 * LeaderContact (how long it has followed some leader), and counts as in contact for the longer
 * of the two. That keeps etcd's answer after a leadership transfer, where etcd's peer streams
 * outlive the change of leader. No retries: etcd answers at once from what its member sees, and
 * a cluster without a reachable leader is refused either way.
 */
import type { KvMember } from '@pontoon/kv';
import { type ContactView, type ContactViewSource, ownContactView } from '../server/contact-view.js';
import type { LeaderContact } from './leader-contact.js';
import type { TcpPeerLink } from './peer-port.js';

/** How long each question to a peer port may take before the answer is done without it. */
const ASK_ONCE_MS = 2000;

export function peerContactView(
  member: KvMember,
  link: TcpPeerLink,
  addressOf: (raftId: number) => string | undefined,
  ownLeaderContact: LeaderContact,
): ContactViewSource {
  const leaderView = async (signal: AbortSignal): Promise<ContactView> => {
    const leader = member.raft.leaderId;
    const address = leader === undefined || leader === member.id ? undefined : addressOf(leader);
    if (address !== undefined) {
      const progress = await link.progressAt(address, signal);
      if (progress?.contactMs !== undefined) return { viewer: progress.leaderId, contactMs: progress.contactMs };
    }
    return ownContactView(member);
  };
  return async (signal) => {
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(ASK_ONCE_MS)]);
    const view = await leaderView(bounded);
    const heard = member.raft.membership().voters.filter((id) => id !== view.viewer && view.contactMs[id] !== undefined);
    const runs = await Promise.all(
      heard.map(async (id) => {
        if (id === member.id) return ownLeaderContact.ms();
        const address = addressOf(id);
        return address === undefined ? undefined : link.leaderContactAt(address, bounded);
      }),
    );
    const contactMs: Record<number, number> = { ...view.contactMs };
    heard.forEach((id, i) => {
      const run = runs[i];
      if (run !== undefined) contactMs[id] = Math.max(contactMs[id]!, run);
    });
    return { viewer: view.viewer, contactMs };
  };
}
