/**
 * A member's snapshot in etcd's format, for Maintenance.Snapshot: a point-in-time copy of the
 * store (KvMember.openSnapshot) rewritten as etcd 3.4's backend (a bbolt database with the key,
 * lease and meta buckets), so that every tool made for etcd's snapshots reads it: `etcdctl
 * snapshot status`, `etcdctl snapshot restore` into a real etcd, and `pontoon-kv snapshot
 * restore`. Both temporary files sit beside the store (the same disk) and are removed on close
 * (after a crash, when the member next opens).
 */
import { type KvMember, type KvSnapshotSource, MvccStore } from '@pontoon/kv';
import { open, rm } from 'node:fs/promises';
import { writeEtcdBackend } from './etcd-backend-file.js';

const CHUNK_BYTES = 64 * 1024;

async function removeStore(file: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${file}${suffix}`, { force: true })));
}

/** Opens the member's snapshot as an etcd backend file; close() removes it. */
export async function openEtcdSnapshot(member: KvMember): Promise<KvSnapshotSource> {
  const copy = member.temporaryPath('etcd-snapshot-sqlite');
  const bolt = member.temporaryPath('etcd-snapshot-bolt');
  let position: KvSnapshotSource['position'];
  let bytes: number;
  try {
    const source = await member.openSnapshot();
    position = source.position;
    try {
      const handle = await open(copy, 'w');
      try {
        for await (const chunk of source.chunks()) await handle.write(chunk);
      } finally {
        await handle.close();
      }
    } finally {
      await source.close();
    }
    // openSnapshot checked the copy; its meta row is checked again on open, each row as read.
    const store = MvccStore.open(copy, { verify: 'meta' });
    try {
      bytes = await writeEtcdBackend(bolt, store.exportHistory(), store.applied.index);
    } finally {
      store.close();
    }
  } catch (err) {
    await rm(bolt, { force: true });
    throw err;
  } finally {
    await removeStore(copy);
  }
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  return {
    position,
    bytes,
    async *chunks() {
      handle = await open(bolt, 'r');
      for (let offset = 0; offset < bytes; ) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, bytes - offset));
        const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) throw new Error(`${bolt} ended at ${offset} of ${bytes} bytes`);
        offset += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    },
    async close() {
      await handle?.close();
      handle = undefined;
      await rm(bolt, { force: true });
    },
  };
}
