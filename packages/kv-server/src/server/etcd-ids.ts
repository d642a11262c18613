/**
 * The etcd ids and members table a server reports: the cluster id, and each member's etcd id,
 * name and URLs by its Raft id. Raft ids are safe integers; etcd's member ids are 64-bit
 * hashes of the peer URLs (member-id.ts), too wide for a Raft id, hence this table.
 *
 * Where it lives: the Raft membership says who is a voter or a learner and carries each
 * member's peer address (`host:port`, what the transport dials); the rest (etcd id, name, peer
 * and client URLs) is a record per member in the KvMember's replicated cluster metadata, under
 * `etcd/member/<id hex>`, written through the log like etcd's own members bucket. A member
 * publishes its own record (name, client URLs) when it starts serving, as etcd does; MemberAdd
 * writes the new member's record before the Raft change, MemberRemove a tombstone after it.
 */
import type { KvMember } from '@pontoon/kv';

/** One member as etcd's Cluster service lists it. */
export interface EtcdMemberRecord {
  /** The member's etcd id (computeMemberId). */
  readonly id: bigint;
  /** Its Raft id in the KvMember cluster (raftIdOfMemberId for members added at runtime). */
  readonly raftId: number;
  /** `--name` ('' for a member added but not started yet, as etcd lists it). */
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

/** Where a server reads and writes the cluster's ids and members. */
export interface EtcdIds {
  readonly clusterId: bigint;
  /** Every member recorded (removed members left out). Read on each call that needs it. */
  members(): readonly EtcdMemberRecord[];
  /** Records (or replaces) a member, by etcd id. */
  setMember(record: EtcdMemberRecord, signal?: AbortSignal): Promise<void>;
  removeMember(id: bigint, signal?: AbortSignal): Promise<void>;
}

/**
 * The Raft id of a member added at runtime: the top 53 bits of its etcd id, so that the new
 * member's process derives the same Raft id from the etcd id MemberAdd returned.
 */
export function raftIdOfMemberId(id: bigint): number {
  const raftId = Number(id >> 11n);
  return raftId === 0 ? 1 : raftId;
}

/** An EtcdIds held in memory and never replicated: for tests and single-process tools. */
export class StaticEtcdIds implements EtcdIds {
  private readonly byId = new Map<bigint, EtcdMemberRecord>();
  constructor(
    readonly clusterId: bigint,
    members: readonly EtcdMemberRecord[],
  ) {
    for (const m of members) this.byId.set(m.id, m);
  }
  members(): readonly EtcdMemberRecord[] {
    return [...this.byId.values()];
  }
  async setMember(record: EtcdMemberRecord): Promise<void> {
    this.byId.set(record.id, record);
  }
  async removeMember(id: bigint): Promise<void> {
    this.byId.delete(id);
  }
}

const PREFIX = 'etcd/member/';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface StoredRecord {
  id: string;
  raftId: number;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  removed?: boolean;
}

/**
 * The members table in a KvMember's replicated cluster metadata. `initial` are the members
 * of `--initial-cluster` (every member derives the same from its flags); records written
 * through the log replace them, tombstones remove them.
 */
export class ReplicatedEtcdIds implements EtcdIds {
  constructor(
    private readonly member: KvMember,
    readonly clusterId: bigint,
    private readonly initial: readonly EtcdMemberRecord[],
  ) {}

  members(): readonly EtcdMemberRecord[] {
    const byId = new Map<bigint, EtcdMemberRecord | undefined>(this.initial.map((r) => [r.id, r]));
    for (const [name, value] of this.member.clusterMeta()) {
      if (!name.startsWith(PREFIX)) continue;
      const s = JSON.parse(decoder.decode(value)) as StoredRecord;
      const id = BigInt(s.id);
      byId.set(id, s.removed === true ? undefined : { id, raftId: s.raftId, name: s.name, peerURLs: s.peerURLs, clientURLs: s.clientURLs });
    }
    return [...byId.values()].filter((r): r is EtcdMemberRecord => r !== undefined);
  }

  async setMember(r: EtcdMemberRecord, signal?: AbortSignal): Promise<void> {
    const stored: StoredRecord = { id: r.id.toString(), raftId: r.raftId, name: r.name, peerURLs: [...r.peerURLs], clientURLs: [...r.clientURLs] };
    await this.member.setClusterMeta(PREFIX + r.id.toString(16), encoder.encode(JSON.stringify(stored)), signal === undefined ? {} : { signal });
  }

  async removeMember(id: bigint, signal?: AbortSignal): Promise<void> {
    const old = this.members().find((m) => m.id === id);
    const stored: StoredRecord = { id: id.toString(), raftId: old?.raftId ?? 0, name: '', peerURLs: [], clientURLs: [], removed: true };
    await this.member.setClusterMeta(PREFIX + id.toString(16), encoder.encode(JSON.stringify(stored)), signal === undefined ? {} : { signal });
  }
}

/** The etcd id of the member with Raft id `raftId` (its Raft id itself when no record names it). */
export function etcdIdOf(ids: EtcdIds, raftId: number): bigint {
  return ids.members().find((m) => m.raftId === raftId)?.id ?? BigInt(raftId);
}
