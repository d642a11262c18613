/**
 * Who is who in a pontoon-kv cluster: each member's etcd id (the 64-bit id etcd derives from
 * its peer URLs and the cluster token), its Raft id, name and URLs.
 *
 * A member's Raft id is the top 52 bits of its etcd id, so that every process maps the two
 * without asking anyone (Raft ids are safe integers; etcd ids are 64-bit hashes). Names and
 * client URLs of the other members are learned from them over the peer link, as etcd members
 * publish their attributes to the cluster.
 */
import { MemberIdError } from '../errors.js';

/** One member as etcd's Cluster service lists it. */
export interface MemberRecord {
  /** The member's etcd id. */
  readonly id: bigint;
  /** Its Raft id (raftIdOf(id)). */
  readonly raftId: number;
  /** `--name`; '' until the member published it, as etcd lists a member not yet started. */
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

/** The Raft id of the member whose etcd id is `etcdId`. */
export function raftIdOf(etcdId: bigint): number {
  const raftId = Number(BigInt.asUintN(64, etcdId) >> 12n);
  if (raftId === 0) throw new MemberIdError(`member id ${etcdId.toString(16)} has no Raft id (its top 52 bits are 0)`);
  return raftId;
}

/** The cluster's members, by etcd id; kept current as members publish and change. */
export class MemberDirectory {
  private readonly byId = new Map<bigint, MemberRecord>();

  constructor(
    readonly clusterId: bigint,
    members: readonly MemberRecord[],
  ) {
    for (const m of members) this.byId.set(m.id, m);
  }

  members(): readonly MemberRecord[] {
    return [...this.byId.values()];
  }

  /** Records (or replaces) a member, by etcd id. */
  setMember(record: MemberRecord): void {
    this.byId.set(record.id, record);
  }

  removeMember(id: bigint): void {
    this.byId.delete(id);
  }

  byRaftId(raftId: number): MemberRecord | undefined {
    for (const m of this.byId.values()) if (m.raftId === raftId) return m;
    return undefined;
  }
}

/** `host:port` of a URL (the first of a member's peer URLs is where its peers dial it). */
export function hostPortOf(url: string): { host: string; port: number } {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  return { host, port };
}

export function addressText(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
