/**
 * `etcdctl snapshot save` with the etcd3 npm client: Maintenance.Snapshot streams a consistent
 * copy of one member's store as it is when the call arrives (followed by etcd's SHA-256 of it,
 * which restore checks); the client writes it to a temporary file, syncs it, and renames it into
 * place, so a file at `file` is always complete.
 */
import { Etcd3 } from 'etcd3';
import { once } from 'node:events';
import { open, rename } from 'node:fs/promises';

/** Saves a snapshot of the member at `endpoint` to `file`; resolves with its size in bytes. */
export async function saveSnapshot(endpoint: string, file: string): Promise<number> {
  // One endpoint only: a snapshot is one member's store (the etcd3 client would pick any).
  const client = new Etcd3({ hosts: [endpoint] });
  const partial = `${file}.part`;
  const out = await open(partial, 'w');
  try {
    const stream = await client.maintenance.snapshot();
    let bytes = 0;
    let remaining = '';
    // Chunks are written in order as they come, one write after the other.
    let written: Promise<unknown> = Promise.resolve();
    stream.on('data', (response) => {
      written = written.then(() => out.write(response.blob));
      bytes += response.blob.length;
      remaining = response.remaining_bytes;
    });
    await Promise.race([once(stream as unknown as NodeJS.EventEmitter, 'end'), once(stream as unknown as NodeJS.EventEmitter, 'error').then(([err]) => Promise.reject(err))]);
    // etcd sends remaining_bytes 0 with the last chunk; a stream that ended before it is cut short.
    if (remaining !== '0') throw new Error(`snapshot stream from ${endpoint} ended with ${remaining || 'no'} bytes still to come`);
    await written;
    await out.sync();
    await out.close();
    await rename(partial, file);
    return bytes;
  } catch (err) {
    await out.close().catch(() => undefined);
    throw err;
  } finally {
    client.close();
  }
}
