/**
 * etcd's Cluster service (v3rpc/member.go) as Pontoon membership changes: the Raft membership
 * (voters, learners, peer addresses) changes through KvMember.changeMembership from any member,
 * and the members table (etcd-ids.ts) keeps etcd's ids, names and URLs. MemberAdd gives the
 * new member etcd's id (its peer URLs hashed with the time of the add) and the Raft id
 * raftIdOfMemberId derives from it. Under --strict-reconfig-check, adds, removes and promotes
 * first pass etcd's reconfiguration check (reconfig-check.ts), before the checks etcd makes when
 * it applies the change (taken URLs, too many learners, unknown members).
 */
import { ConfChangeError } from '@pontoon/raft';
import { EtcdError } from '../etcd-errors.js';
import { parseEtcdUrls } from '../etcd-urls.js';
import { computeAddedMemberId } from '../member-id.js';
import type { ClusterHandlers } from '../proto-types/etcdserverpb/Cluster.js';
import type { Member } from '../proto-types/etcdserverpb/Member.js';
import { type ServerContext, unary } from './call-context.js';
import { type EtcdMemberRecord, raftIdOfMemberId } from './etcd-ids.js';
import { checkLearnerReady } from './learner-readiness.js';
import { checkAddMember, checkPromoteMember, checkRemoveMember, type ReconfigView } from './reconfig-check.js';
import { wireHeader } from './wire.js';

/** etcd 3.4's maxLearners. */
const MAX_LEARNERS = 1;

export function clusterService(ctx: ServerContext): ClusterHandlers {
  const { member, ids } = ctx;
  // etcd's cluster server fills ids and term only: its answers carry no revision.
  const header = () => wireHeader(ctx.header, { revision: 0, raftTerm: member.raft.term });

  const list = (): Member[] => {
    const m = member.raft.membership();
    const records = new Map(ids.members().map((r) => [r.raftId, r]));
    const members = [...m.voters, ...m.learners].map((raftId) => wireMember(records.get(raftId), raftId, m.learners.includes(raftId)));
    // etcd lists members by id.
    return members.sort((a, b) => (BigInt(a.ID as string) < BigInt(b.ID as string) ? -1 : 1));
  };

  const record = (id: string): EtcdMemberRecord => {
    const wanted = BigInt(id);
    const r = ids.members().find((m) => m.id === wanted);
    const m = member.raft.membership();
    if (r === undefined || !(m.voters.includes(r.raftId) || m.learners.includes(r.raftId))) throw new EtcdError('MemberNotFound');
    return r;
  };

  const reconfigView = async (signal: AbortSignal): Promise<ReconfigView> => {
    const { viewer, contactMs } = await ctx.contactView(signal);
    const m = member.raft.membership();
    const started = new Set(ids.members().filter((r) => r.name !== '').map((r) => r.raftId));
    return { viewer, contactMs, voters: m.voters, learners: m.learners, started };
  };

  const peerUrls = (urls: readonly string[]): string[] => {
    try {
      return parseEtcdUrls(urls);
    } catch {
      throw new EtcdError('MemberBadURLs');
    }
  };

  return {
    MemberList: unary(ctx, 'MemberList', async () => ({ header: header(), members: list() })),

    MemberAdd: unary(ctx, 'MemberAdd', async (r, signal) => {
      const urls = peerUrls(r.peerURLs);
      if (ctx.strictReconfigCheck) checkAddMember(await reconfigView(signal), r.isLearner);
      const taken = new Set(ids.members().flatMap((m) => m.peerURLs));
      if (urls.some((u) => taken.has(u))) throw new EtcdError('PeerURLExist');
      if (r.isLearner && member.raft.membership().learners.length >= MAX_LEARNERS) throw new EtcdError('TooManyLearners');
      const id = computeAddedMemberId(urls, Math.floor(Date.now() / 1000));
      const raftId = raftIdOfMemberId(id);
      if (ids.members().some((m) => m.id === id || m.raftId === raftId)) throw new EtcdError('MemberExist');
      const added: EtcdMemberRecord = { id, raftId, name: '', peerURLs: urls, clientURLs: [] };
      await ids.setMember(added, signal);
      const address = new URL(urls[0]!).host;
      await changing(() => member.changeMembership([{ type: r.isLearner ? 'addLearner' : 'addVoter', id: raftId, address }], { signal }));
      return { header: header(), member: wireMember(added, raftId, r.isLearner), members: list() };
    }),

    MemberRemove: unary(ctx, 'MemberRemove', async (r, signal) => {
      if (ctx.strictReconfigCheck) {
        const wanted = BigInt(r.ID);
        checkRemoveMember(await reconfigView(signal), ids.members().find((m) => m.id === wanted)?.raftId);
      }
      const removed = record(r.ID);
      await changing(() => member.changeMembership([{ type: 'remove', id: removed.raftId }], { signal }));
      await ids.removeMember(removed.id, signal);
      return { header: header(), members: list() };
    }),

    MemberUpdate: unary(ctx, 'MemberUpdate', async (r, signal) => {
      const old = record(r.ID);
      const urls = peerUrls(r.peerURLs);
      await ids.setMember({ ...old, peerURLs: urls }, signal);
      // Re-adding a member in its current role is no change to the configuration; it carries
      // the new peer address to every member's transport.
      const learner = member.raft.membership().learners.includes(old.raftId);
      const address = new URL(urls[0]!).host;
      await changing(() => member.changeMembership([{ type: learner ? 'addLearner' : 'addVoter', id: old.raftId, address }], { signal }));
      return { header: header(), members: list() };
    }),

    MemberPromote: unary(ctx, 'MemberPromote', async (r, signal) => {
      const learner = record(r.ID);
      if (!member.raft.membership().learners.includes(learner.raftId)) throw new EtcdError('MemberNotLearner');
      checkLearnerReady(await ctx.leaderProgress(signal), learner.raftId);
      if (ctx.strictReconfigCheck) checkPromoteMember(await reconfigView(signal));
      await changing(() => member.changeMembership([{ type: 'addVoter', id: learner.raftId }], { signal }));
      return { header: header(), members: list() };
    }),
  };
}

/** A configuration the Raft layer refuses is the client's mistake, as etcd reports it. */
async function changing<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (err) {
    if (err instanceof ConfChangeError) throw new EtcdError('MemberNotEnoughStarted', { cause: err });
    throw err;
  }
}

function wireMember(r: EtcdMemberRecord | undefined, raftId: number, isLearner: boolean): Member {
  return {
    ID: (r?.id ?? BigInt(raftId)).toString(),
    name: r?.name ?? '',
    peerURLs: [...(r?.peerURLs ?? [])],
    clientURLs: [...(r?.clientURLs ?? [])],
    isLearner,
  };
}
