/**
 * A follower is down while the cluster takes 10,000 writes, snapshotting every 1,000 entries
 * and keeping 1,000 behind each snapshot: the entries it misses are compacted away, so on
 * restart the leader sends it a snapshot over TCP, and it catches up from there. Every node's
 * log stays bounded, in memory and on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { checkCounter, startCluster, WriteLoad } from './support/cluster.js';

const EVERY = 1000;
/** A snapshot every EVERY entries, EVERY kept behind it, plus what arrives while one is taken. */
const MAX_LOG = 2 * EVERY + 600;

it('catches a follower up by snapshot after 10,000 writes, with a bounded log', async () => {
  const c = await startCluster({ tickMs: 50, snapshotEvery: EVERY });
  const leader = await c.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader.id)!;
  const warmUp = new WriteLoad(c, 32, 300);
  await warmUp.done;
  await c.values(); // every node has the first writes
  const before = await c.status(follower);
  await c.kill(follower);

  // Many clients at once: the leader batches their commands into a few large appends.
  const startedAt = performance.now();
  const load = new WriteLoad(c, 256, 10_000);
  await load.done;
  const writeMs = performance.now() - startedAt;
  for (const s of await c.statuses()) {
    expect(s.snapshotIndex).toBeGreaterThan(before.appliedIndex + 9 * EVERY);
    expect(s.log.lastIndex - s.log.firstIndex + 1).toBeLessThanOrEqual(MAX_LOG);
  }

  const installed = c.nextEvent('snapshotInstalled', (e) => e.node === follower);
  const restartedAt = performance.now();
  await c.start(follower);
  const snapshot = await installed;
  expect(snapshot.index).toBeGreaterThan(before.log.lastIndex + 9 * EVERY);
  const values = await c.values();
  const catchUpMs = performance.now() - restartedAt;
  expect(values.size).toBe(3);
  const all = { acked: [...warmUp.acked, ...load.acked], unknown: warmUp.unknown + load.unknown };
  expect(checkCounter(all, values)).toEqual([]);

  // On disk: reopen each node's SQLite store once its process is gone (SIGKILL, so exactly
  // what was durable) and count the entries it holds.
  const onDisk: string[] = [];
  for (const id of [1, 2, 3]) {
    await c.kill(id);
    const store = await SqliteLogStore.open(c.node(id).dataDir);
    try {
      const entries = store.lastIndex() - store.firstIndex() + 1;
      expect(entries).toBeLessThanOrEqual(MAX_LOG);
      expect(store.snapshot().metadata.index).toBeGreaterThan(9 * EVERY);
      const files = fs.readdirSync(c.node(id).dataDir).map((f) => fs.statSync(path.join(c.node(id).dataDir, f)).size);
      const kib = Math.round(files.reduce((a, b) => a + b, 0) / 1024);
      onDisk.push(`n${id} ${entries} entries [${store.firstIndex()}..${store.lastIndex()}] in ${kib} KiB`);
    } finally {
      await store.close();
    }
  }
  console.log(
    `snapshot catch-up: 10,000 writes in ${Math.round(writeMs)} ms; n${follower} restored a snapshot at ${snapshot.index} ` +
      `(it had ${before.log.lastIndex}) and caught up in ${Math.round(catchUpMs)} ms; on disk: ${onDisk.join(', ')}`,
  );
});
