/**
 * bench/snapshot-transfer (on demand): how much memory a snapshot costs its receiver. A
 * one-member sqlite-map cluster (examples/sqlite-map/node.ts, SQLite log and state, TCP) is
 * filled with PONTOON_SNAPSHOT_MIB MiB (default 512) of 512 KiB values through Raft, compacts
 * its log, and a new member joins: the state reaches it as a streamed snapshot. Reports the
 * bytes streamed, the time from the member's addition to its install, and the receiver's
 * resident memory before and at its peak (the kernel's high-water mark, getrusage maxrss).
 */
import { fileURLToPath } from 'node:url';
import { Cluster } from '../../examples/counter/cluster.js';
import type { Suite, SuiteOptions, SuiteReport } from '../lib/suite.js';

const program = fileURLToPath(new URL('../../examples/sqlite-map/node.ts', import.meta.url));
const VALUE_BYTES = 512 * 1024;

interface MemStatus {
  position: number;
  commitIndex: number;
  rss: number;
  peakRss: number;
}

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;

async function runSuite(_options: SuiteOptions, log: (line: string) => void): Promise<SuiteReport> {
  const stateMiB = Number(process.env.PONTOON_SNAPSHOT_MIB ?? 512);
  const values = Math.ceil((stateMiB * 2 ** 20) / VALUE_BYTES);
  const c = await Cluster.start({ size: 1, tickMs: 50, program, snapshotEvery: 100, prefix: 'pontoon-bench-snapshot-' });
  try {
    await c.waitForLeader();
    let t = performance.now();
    const filled = await c.command(1, `fill ${values} ${VALUE_BYTES}`);
    if ((filled as { filled?: number }).filled !== values) throw new Error(`fill failed: ${JSON.stringify(filled)}`);
    const fillMs = performance.now() - t;
    log(`  filled ${values} values of 512 KiB in ${(fillMs / 1000).toFixed(1)} s`);
    await c.command(1, 'snapshot');
    const n2 = await c.addMember(2);
    await c.start(2, { join: true });
    const before = (await c.status(2)) as unknown as MemStatus;
    const installed = c.nextEvent('snapshotInstalled', (e) => e.node === 2, 30 * 60_000);
    t = performance.now();
    await c.command(1, `add-learner 2 ${n2.address}`);
    const event = (await installed) as unknown as { bytes: number };
    const transferMs = performance.now() - t;
    const leader = (await c.status(1)) as unknown as MemStatus;
    await c.waitUntil('n2 to catch up', async () => ((await c.status(2)) as unknown as MemStatus).position >= leader.commitIndex, 10 * 60_000);
    const after = (await c.status(2)) as unknown as MemStatus;
    const verified = (await c.command(2, 'verify')) as unknown as { size: number; badCount: number };
    const results = {
      stateBytes: event.bytes,
      transferMs,
      receiverRssBefore: before.rss,
      receiverPeakRss: after.peakRss,
      receiverGrowth: after.peakRss - before.rss,
      senderPeakRss: leader.peakRss,
      verified,
    };
    const text =
      `state streamed: ${mib(event.bytes)} in ${(transferMs / 1000).toFixed(1)} s (addition to install)\n` +
      `receiver RSS: ${mib(before.rss)} before, peak ${mib(after.peakRss)}: grew by ${mib(results.receiverGrowth)}\n` +
      `sender peak RSS: ${mib(leader.peakRss)}; receiver verified ${verified.size} values, ${verified.badCount} bad`;
    return { text, results };
  } finally {
    await c.close();
  }
}

export const snapshotTransferSuite: Suite = {
  name: 'snapshot-transfer',
  description: 'a PONTOON_SNAPSHOT_MIB (default 512) MiB SQLite state streamed to a new member: its memory',
  onDemand: true,
  run: runSuite,
};
