/**
 * The identity file of a member's data directory (`member/pontoon-kv.json`): written once when
 * the member bootstraps (a new cluster, a join, or a snapshot restore), read on every restart.
 * It says whose data this is (checkDataDirIdentity refuses another member's or cluster's) and
 * which Raft id the member runs as.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataDirIdentity } from '../data-dir-identity.js';
import { DataDirMismatchError } from '../errors.js';

/** What the identity file holds. */
export interface MemberIdentity extends DataDirIdentity {
  readonly raftId: number;
  readonly peerURLs: readonly string[];
  /** The initial members (etcd id, name, peer URLs) the member bootstrapped with. */
  readonly initialMembers: ReadonlyArray<{ readonly id: bigint; readonly name: string; readonly peerURLs: readonly string[] }>;
}

const FILE = 'pontoon-kv.json';

/** The member's own directory inside `--data-dir`, as etcd keeps its data in `member/`. */
export function memberDir(dataDir: string): string {
  return join(dataDir, 'member');
}

/** The identity stored in `dataDir`, or undefined for a data directory never bootstrapped. */
export async function readMemberIdentity(dataDir: string): Promise<MemberIdentity | undefined> {
  const file = join(memberDir(dataDir), FILE);
  if (!existsSync(file)) {
    if (existsSync(join(memberDir(dataDir), 'kv.db'))) {
      throw new DataDirMismatchError(dataDir, 'member', `data dir ${dataDir} holds a member's data but no ${FILE}: it was not made by pontoon-kv`);
    }
    return undefined;
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new DataDirMismatchError(dataDir, 'member', `data dir ${dataDir}: ${file} is unreadable (${(err as Error).message})`);
  }
  const members = raw['initialMembers'] as Array<{ id: string; name: string; peerURLs: string[] }>;
  return {
    name: raw['name'] as string,
    memberId: BigInt(`0x${raw['memberId'] as string}`),
    clusterId: BigInt(`0x${raw['clusterId'] as string}`),
    clusterToken: raw['clusterToken'] as string,
    raftId: raw['raftId'] as number,
    peerURLs: raw['peerURLs'] as string[],
    initialMembers: members.map((m) => ({ id: BigInt(`0x${m.id}`), name: m.name, peerURLs: m.peerURLs })),
  };
}

/** Writes the identity (temp file, fsync, rename), once the member's data exists. */
export async function writeMemberIdentity(dataDir: string, identity: MemberIdentity): Promise<void> {
  const dir = memberDir(dataDir);
  await mkdir(dir, { recursive: true });
  const text = JSON.stringify(
    {
      name: identity.name,
      memberId: identity.memberId.toString(16),
      clusterId: identity.clusterId.toString(16),
      clusterToken: identity.clusterToken,
      raftId: identity.raftId,
      peerURLs: identity.peerURLs,
      initialMembers: identity.initialMembers.map((m) => ({ id: m.id.toString(16), name: m.name, peerURLs: m.peerURLs })),
    },
    null,
    2,
  );
  const tmp = join(dir, `${FILE}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(`${text}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(dir, FILE));
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Whether `dataDir` holds nothing of a member yet. */
export function isFreshDataDir(dataDir: string): boolean {
  return !existsSync(join(memberDir(dataDir), FILE)) && !existsSync(join(memberDir(dataDir), 'kv.db'));
}
