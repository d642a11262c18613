/**
 * Snapshot files, as `etcdctl snapshot save` writes them from Maintenance.Snapshot: the
 * member's store (a SQLite database, a whole number of 512-byte pages) followed by the
 * SHA-256 of those bytes, etcd's trailer.
 *
 * `snapshot status` prints etcdctl's four figures. Revision and size mean what they mean in
 * etcd; the hash is the store's HashKV at its revision (a CRC-32C over the MVCC contents, so two
 * snapshots of the same data have the same hash) and total keys counts the revisions stored
 * (etcd counts its bolt database's keys of every bucket, a figure of its own layout).
 *
 * `snapshot restore` makes a new member's data directory from a file: the keys, their history
 * and the leases, with a new cluster membership from the restore flags (etcdctl's), ready for
 * `pontoon-kv` started with the same flags.
 *
 * Both also take etcd's own snapshot files (a bbolt database and the same trailer), so that a
 * cluster moves from etcd to pontoon-kv with `etcdctl snapshot save` and `pontoon-kv snapshot
 * restore`: status computes etcdctl's figures from the bbolt file, and restore imports etcd's
 * history and leases into a new store.
 */
import { MvccStore } from '@pontoon/kv';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotRestoreArgs, SnapshotStatusArgs } from '../cli/snapshot-args.js';
import { SnapshotFileError } from '../errors.js';
import { formatMemberId } from '../member-id.js';
import { raftIdOfMemberId as raftIdOf } from '../server/etcd-ids.js';
import { BoltFile, BoltFormatError, isBoltFile } from './bolt-file.js';
import { etcdAuthEnabled, etcdBackendHistory, etcdBackendStatus } from './etcd-backend-file.js';
import { memberDir, writeMemberIdentity } from './member-identity.js';

const SHA256_BYTES = 32;

/** etcdctl's snapshot status figures. */
export interface SnapshotStatus {
  readonly hash: number;
  readonly revision: number;
  readonly totalKey: number;
  readonly totalSize: number;
}

/** The database bytes of a snapshot file, its trailer checked unless `skipHashCheck`. */
async function readSnapshot(file: string, skipHashCheck: boolean): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new SnapshotFileError(file, (err as Error).message);
  }
  // etcd: a file with a trailer is a whole number of 512-byte pages plus the 32-byte hash.
  const hasHash = bytes.length % 512 === SHA256_BYTES;
  if (!hasHash) {
    if (!skipHashCheck) throw new SnapshotFileError(file, 'snapshot missing hash but --skip-hash-check=false');
    return bytes;
  }
  const db = bytes.subarray(0, bytes.length - SHA256_BYTES);
  if (!skipHashCheck) {
    const sum = createHash('sha256').update(db).digest();
    if (!sum.equals(bytes.subarray(bytes.length - SHA256_BYTES))) throw new SnapshotFileError(file, 'expected sha256 hash mismatch');
  }
  return db;
}

/** Reads a snapshot file's figures. */
export async function snapshotStatus(file: string): Promise<SnapshotStatus> {
  const db = await readSnapshot(file, false);
  if (isBoltFile(db)) return etcdFile(file, (bolt) => etcdBackendStatus(bolt), db);
  const dir = await mkdtemp(join(tmpdir(), 'pontoon-kv-snapshot-'));
  try {
    const copy = join(dir, 'kv.db');
    await writeDurably(copy, db);
    let store: MvccStore;
    try {
      store = MvccStore.open(copy);
    } catch (err) {
      throw new SnapshotFileError(file, `not a pontoon-kv snapshot (${(err as Error).message})`);
    }
    try {
      const revisions = store.database.prepare('SELECT count(*) AS n FROM kv').get() as { n: number };
      return { hash: store.hashKV(store.revision).hash, revision: store.revision, totalKey: revisions.n, totalSize: db.length };
    } finally {
      store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The status as etcdctl prints it with `-w simple|table|json|fields`. */
export function formatSnapshotStatus(s: SnapshotStatus, writeOut: SnapshotStatusArgs['writeOut']): string {
  const hash = s.hash.toString(16);
  const size = humanizeBytes(s.totalSize);
  switch (writeOut) {
    case 'json':
      return `${JSON.stringify({ hash: s.hash, revision: s.revision, totalKey: s.totalKey, totalSize: s.totalSize })}\n`;
    case 'fields':
      return `"Hash" : ${s.hash}\n"Revision" : ${s.revision}\n"Keys" : ${s.totalKey}\n"Size" : ${s.totalSize}\n`;
    case 'table': {
      const header = ['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'];
      const row = [hash, String(s.revision), String(s.totalKey), size];
      const widths = header.map((h, i) => Math.max(h.length, row[i]!.length));
      const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
      // etcdctl's table centres the header and right-aligns the numbers, the hash included.
      const cells = (values: string[], pad: (v: string, w: number) => string): string =>
        `|${values.map((v, i) => ` ${pad(v, widths[i]!)} `).join('|')}|`;
      const centre = (v: string, w: number): string => {
        const left = Math.floor((w - v.length) / 2);
        return ' '.repeat(left) + v + ' '.repeat(w - v.length - left);
      };
      return `${[line, cells(header, centre), line, cells(row, (v, w) => v.padStart(w)), line].join('\n')}\n`;
    }
    default:
      return `${hash}, ${s.revision}, ${s.totalKey}, ${size}\n`;
  }
}

/** go-humanize's Bytes: SI units, one decimal below 10. */
export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : goWhole(val)} ${units[e]}`;
}

/** Go's `%.0f`: halves round to even (20.5 prints 20), where toFixed rounds them up. */
function goWhole(v: number): string {
  const floor = Math.floor(v);
  if (v - floor !== 0.5) return v.toFixed(0);
  return String(floor % 2 === 0 ? floor : floor + 1);
}

/**
 * Builds a member's data directory from a snapshot file: the store with its Raft position
 * cleared (the new cluster's log starts empty) and the identity of the member named by the
 * restore flags. Refuses a data directory that exists, as etcdctl does.
 */
export async function restoreSnapshot(args: SnapshotRestoreArgs, log: (line: string) => void): Promise<void> {
  if (existsSync(args.dataDir)) throw new SnapshotFileError(args.file, `data-dir "${args.dataDir}" exists`);
  const db = await readSnapshot(args.file, args.skipHashCheck);
  const self = args.ids.members.find((m) => m.name === args.name)!;
  const dir = memberDir(args.dataDir);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'kv.db');
  const fromEtcd = isBoltFile(db);
  try {
    if (fromEtcd) {
      const bolt = new BoltFile(db);
      if (etcdAuthEnabled(bolt)) {
        throw new SnapshotFileError(args.file, 'etcd had authentication enabled (auth enable); pontoon-kv does not serve users and roles yet, and would serve every key to every client: disable auth on the etcd cluster (etcdctl auth disable) and save again to move it');
      }
      const history = etcdBackendHistory(bolt);
      const store = MvccStore.open(file);
      try {
        store.importHistory(history);
      } finally {
        store.close();
      }
    } else {
      await writeDurably(file, db);
      let store: MvccStore;
      try {
        store = MvccStore.open(file);
      } catch (err) {
        throw new SnapshotFileError(args.file, `not a pontoon-kv snapshot (${(err as Error).message})`);
      }
      try {
        // The data keeps its revisions and leases; its place in the old cluster's log does not
        // carry over: the new cluster's first entries are its membership.
        store.transaction(() => store.setApplied(0, 0));
      } finally {
        store.close();
      }
    }
  } catch (err) {
    await rm(args.dataDir, { recursive: true, force: true });
    if (err instanceof SnapshotFileError) throw err;
    // The history is read as it is imported: damage found on the way surfaces here too.
    if (err instanceof BoltFormatError) throw new SnapshotFileError(args.file, `damaged etcd snapshot: ${err.message}`);
    throw new SnapshotFileError(args.file, (err as Error).message);
  }
  await writeMemberIdentity(args.dataDir, {
    name: args.name,
    memberId: self.id,
    clusterId: args.ids.clusterId,
    clusterToken: args.initialClusterToken,
    raftId: raftIdOf(self.id),
    peerURLs: self.peerUrls,
    initialMembers: args.ids.members.map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerUrls })),
  });
  log(`restored ${fromEtcd ? 'etcd ' : ''}snapshot path=${args.file} data-dir=${args.dataDir} member-id=${formatMemberId(self.id)} cluster-id=${formatMemberId(args.ids.clusterId)}`);
}

/** Reads an etcd backend file with `read`; a damaged one is a SnapshotFileError naming the file. */
function etcdFile<T>(file: string, read: (bolt: BoltFile) => T, db: Buffer): T {
  try {
    return read(new BoltFile(db));
  } catch (err) {
    if (err instanceof BoltFormatError) throw new SnapshotFileError(file, `damaged etcd snapshot: ${err.message}`);
    throw err;
  }
}

async function writeDurably(path: string, bytes: Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}
