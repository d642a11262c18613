/**
 * Whose contact with the members the strict reconfiguration check looks at. etcd asks the
 * member that received the request, whose transport keeps a stream to every peer; a Pontoon
 * follower hears only from the leader, so the leader's view (RaftNode.peerContact() there) is
 * the one that says which members are up (pontoon-kv's source, member/peer-contact-view.ts, also
 * asks each member how long it has followed a leader, so that a change of leader does not reset
 * the count). Without a leader that answers, the member's own view stands in: it is what etcd's
 * member would see too, cut off from the rest.
 */
import type { KvMember } from '@pontoon/kv';

/** A member's unbroken contact with the others, in ms by Raft id (see ReconfigView). */
export interface ContactView {
  readonly viewer: number;
  readonly contactMs: Readonly<Record<number, number>>;
}

/** Where the Cluster service gets a ContactView. */
export type ContactViewSource = (signal: AbortSignal) => Promise<ContactView>;

/** This member's own view. */
export function ownContactView(member: KvMember): ContactView {
  return { viewer: member.id, contactMs: member.raft.peerContact() };
}

/**
 * The source for a server with no way to ask the leader: always its own view. On a follower that
 * sees only the leader, so while strict checks are on, an add sent there is refused as Unhealthy.
 */
export function localContactView(member: KvMember): ContactViewSource {
  return async () => ownContactView(member);
}
