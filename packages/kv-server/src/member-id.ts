import { createHash } from 'node:crypto';
import { MemberIdError } from './errors.js';
import { parseEtcdUrls, parseEtcdUrlsMap } from './etcd-urls.js';

/**
 * Member and cluster ids derived as etcd 3.4 derives them, so that the same flags give the same
 * ids as etcd (and `etcdctl member list` shows what it would show for etcd).
 *
 * A member id is the first 8 bytes (big-endian) of SHA-1 over the member's peer URLs, sorted
 * and concatenated, then the cluster token, then, for a member added at runtime, the decimal
 * Unix time in seconds of the add (see computeAddedMemberId). The cluster id is the first 8
 * bytes of SHA-1 over the initial members' ids, sorted, each as 8 big-endian bytes. Ids are
 * unsigned 64-bit, hence bigint.
 */
export function computeMemberId(peerUrls: readonly string[], clusterToken: string, addedAtUnixSeconds?: number): bigint {
  const urls = parseEtcdUrls(peerUrls);
  const hash = createHash('sha1');
  for (const u of urls) hash.update(u, 'utf8');
  hash.update(clusterToken, 'utf8');
  if (addedAtUnixSeconds !== undefined) {
    if (!Number.isSafeInteger(addedAtUnixSeconds)) {
      throw new RangeError(`addedAtUnixSeconds must be an integer, got ${addedAtUnixSeconds}`);
    }
    hash.update(String(addedAtUnixSeconds), 'utf8');
  }
  return hash.digest().readBigUInt64BE(0);
}

/**
 * The id etcd's `MemberAdd` gives a new member (voter or learner): the peer URLs hashed with an
 * *empty* cluster token and the Unix second of the add, so adding the same URLs again later
 * gives a new id.
 */
export function computeAddedMemberId(peerUrls: readonly string[], addedAtUnixSeconds: number): bigint {
  return computeMemberId(peerUrls, '', addedAtUnixSeconds);
}

/** The cluster id of a cluster whose initial members have these ids (order does not matter). */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => bytes.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(bytes).digest().readBigUInt64BE(0);
}

/** One member of an initial cluster. */
export interface InitialMember {
  readonly name: string;
  /** Sorted, in etcd's printed form. */
  readonly peerUrls: readonly string[];
  readonly id: bigint;
}

/** The members and cluster id that `--initial-cluster` and `--initial-cluster-token` make. */
export interface InitialClusterIds {
  /** Sorted by member id, as etcd lists members. */
  readonly members: readonly InitialMember[];
  readonly clusterId: bigint;
}

/**
 * What etcd makes of `--initial-cluster` (`name=url,...`) and `--initial-cluster-token` when it
 * bootstraps a new cluster: each name's URLs hashed with the token, then the cluster id. Refuses
 * what etcd refuses, with etcd's words: two members with one id (the same URLs under two names)
 * and the id 0 (raft's "no node").
 */
export function initialClusterIds(initialCluster: string, clusterToken: string): InitialClusterIds {
  const members: InitialMember[] = [];
  const seen = new Map<bigint, string>();
  for (const [name, peerUrls] of parseEtcdUrlsMap(initialCluster)) {
    const id = computeMemberId(peerUrls, clusterToken);
    const other = seen.get(id);
    if (other !== undefined) {
      throw new MemberIdError(`member exists with identical ID ${formatMemberId(id)} (members ${other} and ${name})`);
    }
    if (id === 0n) throw new MemberIdError('cannot use 0 as member id');
    seen.set(id, name);
    members.push({ name, peerUrls, id });
  }
  members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { members, clusterId: computeClusterId(members.map((m) => m.id)) };
}

/** An id as etcd prints it in logs, errors and `etcdctl member list`: lower-case hex, unpadded. */
export function formatMemberId(id: bigint): string {
  return id.toString(16);
}

/** An id as etcdctl and etcd's flags take it: hex, with or without leading zeros. */
export function parseMemberId(hex: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new MemberIdError(`bad member ID arg: ${hex}`);
  return BigInt(`0x${hex}`);
}
