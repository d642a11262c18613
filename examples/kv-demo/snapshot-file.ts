/**
 * `etcdctl snapshot save` over the etcd3 client: Maintenance.Snapshot streams the member's store
 * followed by its SHA-256, and the file is both. Like etcdctl, the save checks the trailer
 * before it keeps the file.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Etcd3 } from 'etcd3';

const SHA256_BYTES = 32;

/** Saves a snapshot of the member `client` talks to into `file`; resolves with its size in bytes. */
export async function saveSnapshot(client: Etcd3, file: string): Promise<number> {
  const stream = await client.maintenance.snapshot();
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (res) => chunks.push(res.blob));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  const all = Buffer.concat(chunks);
  const body = all.subarray(0, all.length - SHA256_BYTES);
  const trailer = all.subarray(all.length - SHA256_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (all.length <= SHA256_BYTES || !digest.equals(trailer)) {
    throw new Error(`snapshot of ${all.length} bytes: its SHA-256 trailer does not match its contents`);
  }
  fs.writeFileSync(file, all);
  return all.length;
}
