/**
 * The etcd ids a server reports: the cluster id, and each member's etcd id, name and URLs by its
 * Raft id. Raft ids are safe integers chosen by whoever builds the cluster; etcd's member ids
 * are 64-bit hashes of the peer URLs (member-id.ts), too wide for a Raft id, hence this table.
 */

/** One member as etcd's Cluster service lists it. */
export interface EtcdMemberRecord {
  /** The member's etcd id (computeMemberId). */
  readonly id: bigint;
  /** Its Raft id in the KvMember cluster. */
  readonly raftId: number;
  /** `--name` ('' for a member added but not started yet, as etcd lists it). */
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

/**
 * Where a server reads the cluster's ids and members. `members()` is asked on every call that
 * needs it, so an implementation backed by replicated state stays current; `setMember` and
 * `removeMember` are called by the Cluster service after a membership change applied.
 */
export interface EtcdIds {
  readonly clusterId: bigint;
  members(): readonly EtcdMemberRecord[];
  /** Records (or replaces) a member, by etcd id. */
  setMember(record: EtcdMemberRecord): void;
  removeMember(id: bigint): void;
}

/** An EtcdIds held in memory: for a process that rebuilds it from its flags on start, and for tests. */
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
  setMember(record: EtcdMemberRecord): void {
    this.byId.set(record.id, record);
  }
  removeMember(id: bigint): void {
    this.byId.delete(id);
  }
}

/** The etcd id of the member with Raft id `raftId` (its Raft id itself when no record names it). */
export function etcdIdOf(ids: EtcdIds, raftId: number): bigint {
  return ids.members().find((m) => m.raftId === raftId)?.id ?? BigInt(raftId);
}
