/**
 * A snapshot moves with memory bounded by the chunk window, not by the state's size: n1 (a
 * sqlite-map process, examples/sqlite-map/node.ts) holds 96 MiB, a new member joins and gets it
 * as a streamed snapshot over TCP, and its peak resident memory (the kernel's high-water mark)
 * grows by much less than the state. The 500 MiB figure is the `snapshot-transfer` benchmark's.
 */
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { startCluster } from './support/cluster.js';

const program = fileURLToPath(new URL('../examples/sqlite-map/node.ts', import.meta.url));
const VALUES = 384;
const VALUE_BYTES = 256 * 1024;

interface MemStatus {
  position: number;
  commitIndex: number;
  rss: number;
  peakRss: number;
}

it('streams a 96 MiB state to a new member whose memory grows by less than half of that', async () => {
  const c = await startCluster({ size: 1, tickMs: 50, program, snapshotEvery: 100, prefix: 'pontoon-snapshot-memory-' });
  await c.waitForLeader();
  expect(await c.command(1, `fill ${VALUES} ${VALUE_BYTES}`)).toMatchObject({ filled: VALUES });
  await c.command(1, 'snapshot');
  const n2 = await c.addMember(2);
  await c.start(2, { join: true });
  const before = (await c.status(2)) as unknown as MemStatus;
  const installed = c.nextEvent('snapshotInstalled', (e) => e.node === 2, 120_000);
  await c.command(1, `add-learner 2 ${n2.address}`);
  const event = (await installed) as unknown as { bytes: number };
  const leader = (await c.status(1)) as unknown as MemStatus;
  await c.waitUntil('n2 to catch up', async () => ((await c.status(2)) as unknown as MemStatus).position >= leader.commitIndex, 60_000);
  const after = (await c.status(2)) as unknown as MemStatus;
  expect(await c.command(2, 'verify')).toMatchObject({ size: VALUES, badCount: 0 });

  const state = VALUES * VALUE_BYTES;
  const growth = after.peakRss - before.rss;
  console.log(
    `snapshot memory: ${(event.bytes / 2 ** 20).toFixed(0)} MiB streamed; receiver RSS ${(before.rss / 2 ** 20).toFixed(0)} MiB before, ` +
      `peak ${(after.peakRss / 2 ** 20).toFixed(0)} MiB: grew by ${(growth / 2 ** 20).toFixed(0)} MiB`,
  );
  expect(event.bytes).toBeGreaterThan(state);
  expect(growth).toBeLessThan(state / 2);
}, 240_000);
