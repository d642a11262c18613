/**
 * A member's snapshot in etcd's format, for Maintenance.Snapshot: the store's committed history
 * as of the call (KvMember.openHistory, a read transaction of its own, so the member goes on
 * serving) written as etcd 3.4's backend (a bbolt database with the key, lease and meta
 * buckets), so that every tool made for etcd's snapshots reads it: `etcdctl snapshot status`,
 * `etcdctl snapshot restore` into a real etcd, and `pontoon-kv snapshot restore`. The file sits
 * beside the store (the same disk) and is removed on close (after a crash, when the member next
 * opens).
 */
import type { KvMember, KvSnapshotSource } from '@pontoon/kv';
import { open, rm } from 'node:fs/promises';
import { writeEtcdBackend } from './etcd-backend-file.js';

const CHUNK_BYTES = 64 * 1024;

/** Opens the member's snapshot as an etcd backend file; close() removes it. */
export async function openEtcdSnapshot(member: KvMember): Promise<KvSnapshotSource> {
  const bolt = member.temporaryPath('etcd-snapshot');
  const reader = member.openHistory();
  const position = reader.position;
  let bytes: number;
  try {
    bytes = await writeEtcdBackend(bolt, reader.history, position.index);
  } catch (err) {
    await rm(bolt, { force: true });
    throw err;
  } finally {
    reader.close();
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
