/**
 * etcd's Cluster service: MemberList, from the Raft membership (who is a voter or a learner)
 * and the etcd ids table (names and URLs). Membership changes (MemberAdd, MemberRemove,
 * MemberUpdate, MemberPromote) are not served yet and answer UNIMPLEMENTED.
 */
import type { ClusterHandlers } from '../proto-types/etcdserverpb/Cluster.js';
import type { Member } from '../proto-types/etcdserverpb/Member.js';
import { type ServerContext, unary } from './call-context.js';
import { wireHeader } from './wire.js';

export function clusterService(ctx: ServerContext): ClusterHandlers {
  const { member, header } = ctx;
  // The handlers left out answer UNIMPLEMENTED (grpc-js's answer for a method without one).
  const handlers: Partial<ClusterHandlers> = {
    MemberList: unary(ctx, 'MemberList', async () => {
      const m = member.raft.membership();
      const records = new Map(ctx.ids.members().map((r) => [r.raftId, r]));
      const members: Member[] = [...m.voters, ...m.learners].map((raftId) => {
        const r = records.get(raftId);
        return {
          ID: (r?.id ?? BigInt(raftId)).toString(),
          name: r?.name ?? '',
          peerURLs: [...(r?.peerURLs ?? [])],
          clientURLs: [...(r?.clientURLs ?? [])],
          isLearner: m.learners.includes(raftId),
        };
      });
      // etcd lists members by id.
      members.sort((a, b) => (BigInt(a.ID as string) < BigInt(b.ID as string) ? -1 : 1));
      return { header: wireHeader(header, { revision: member.revision, raftTerm: member.raft.term }), members };
    }),
  };
  return handlers as ClusterHandlers;
}
