/**
 * A 3-member in-process KvMember cluster (MemoryNetwork for Raft, LocalPeerNetwork for the
 * leader link, a temporary directory each) with pontoon-kv's gRPC server on 127.0.0.1 in front
 * of every member, for tests.
 */
import { MemoryLogStore, MemoryNetwork, type Member } from '@pontoon/raft';
import { LocalPeerNetwork, type KvMember, openKvMember } from '@pontoon/kv';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeClusterId, computeMemberId } from '../../src/member-id.js';
import { type EtcdGrpcServer, startEtcdGrpcServer } from '../../src/server/etcd-grpc-server.js';
import { ReplicatedEtcdIds } from '../../src/server/etcd-ids.js';
import { ownProgress, type LeaderProgressSource } from '../../src/server/learner-readiness.js';

export interface GrpcCluster {
  readonly members: KvMember[];
  readonly servers: EtcdGrpcServer[];
  /** `127.0.0.1:port` of each member's server. */
  readonly endpoints: string[];
  /** Member 0's view of the replicated members table. */
  readonly ids: ReplicatedEtcdIds;
  leader(): Promise<KvMember>;
  close(): Promise<void>;
}

/** `quotaBytes`: each store's --quota-backend-bytes (default etcd's 2 GiB). */
export async function startGrpcCluster(size = 3, options: { quotaBytes?: number } = {}): Promise<GrpcCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'kv-grpc-'));
  const network = new MemoryNetwork();
  const peers = new LocalPeerNetwork();
  const initialMembers: Member[] = [];
  for (let id = 1; id <= size; id++) initialMembers.push({ id, address: `m${id}` });
  const records = initialMembers.map(({ id }) => ({
    id: computeMemberId([`http://127.0.0.1:${2380 + id}`], 'test-token'),
    raftId: id,
    name: `m${id}`,
    peerURLs: [`http://127.0.0.1:${2380 + id}`],
    clientURLs: [] as string[],
  }));
  const clusterId = computeClusterId(records.map((r) => r.id));
  const idsOf: ReplicatedEtcdIds[] = [];
  const members: KvMember[] = [];
  const servers: EtcdGrpcServer[] = [];
  // In one process, the leader's progress is read where it is (pontoon-kv asks over the peer port).
  const leaderProgress: LeaderProgressSource = async () => {
    for (const m of members) {
      const progress = ownProgress(m);
      if (progress !== undefined) return progress;
    }
    throw new Error('no leader to ask for its progress');
  };
  for (const { id } of initialMembers) {
    const member = await openKvMember({
      id,
      dataDir: join(dir, `m${id}`),
      transport: network.transport(id),
      peers: peers.link(id),
      logStore: new MemoryLogStore(),
      initialMembers,
      raft: { tickMs: 10, electionTicks: 10 },
      store: { synchronous: 'normal', ...(options.quotaBytes === undefined ? {} : { quotaBytes: options.quotaBytes }) },
      requestTimeoutMs: 5_000,
    });
    members.push(member);
    const ids = new ReplicatedEtcdIds(member, clusterId, records);
    idsOf.push(ids);
    // These members change their membership right after they start, which etcd's strict check
    // refuses for its first 5 s; the check has its own tests (reconfig-check*.test.ts).
    servers.push(await startEtcdGrpcServer({ member, ids, listen: '127.0.0.1:0', leaderProgress, strictReconfigCheck: false }));
  }
  // Each member publishes its client URLs, as etcd's members do once they serve.
  await Promise.all(
    members.map((_, i) => idsOf[i]!.setMember({ ...records[i]!, clientURLs: [`http://${servers[i]!.addresses[0]}`] })),
  );
  return {
    members,
    servers,
    endpoints: servers.map((s) => s.addresses[0]!),
    ids: idsOf[0]!,
    async leader() {
      for (let i = 0; i < 500; i++) {
        const l = members.find((m) => m.isLeader);
        if (l !== undefined && members.every((m) => m.raft.leaderId === l.id)) return l;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('no leader within 5 s');
    },
    async close() {
      await Promise.allSettled(servers.map((s) => s.close()));
      await Promise.allSettled(members.map((m) => m.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
