/**
 * A replicated map in SQLite that restarts without replay. Run it (from examples/sqlite-map):
 *
 *   npx -y pnpm@10 start [dir]
 *
 * It starts a one-member cluster (SqliteLogStore for the log, SqliteMap for the state), writes
 * 1,000 keys, stops, starts again over the same files and shows that the map is whole and that
 * no entry was applied a second time: the map's recorded position tells the node where to go on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryNetwork, RaftNode, type Entry } from '@pontoon/raft';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { SqliteMap, encodeCommand } from './sqlite-map.js';

/** What run() saw. */
export interface RunReport {
  /** The map's position when the first run stopped. */
  positionAtStop: number;
  /** Entries handed to applyBatch() after the restart, at or below that position: zero. */
  reappliedAfterRestart: number;
  /** The value of key `k999` read after the restart. */
  lastValue: string | undefined;
  /** Keys in the map after the restart. */
  keys: number;
}

/** Starts a one-member node over `dir`, runs `work` on it once it leads, stops it. */
async function withNode<T>(
  dir: string,
  work: (node: RaftNode<SqliteMap>, map: SqliteMap) => Promise<T>,
  onApply?: (entries: readonly Readonly<Entry>[]) => void,
): Promise<T> {
  const logStore = await SqliteLogStore.open(path.join(dir, 'log'));
  const map = SqliteMap.open(path.join(dir, 'map'), onApply === undefined ? {} : { onApply });
  const node = new RaftNode({
    id: 1,
    initialMembers: [{ id: 1, address: 'n1' }],
    logStore,
    transport: new MemoryNetwork().transport(1),
    stateMachine: map,
    tickMs: 10,
  });
  try {
    while (!node.isLeader) await new Promise((r) => setTimeout(r, 5));
    return await work(node, map);
  } finally {
    await node.stop(); // closes the log store too
    map.close();
  }
}

/** The example: write, stop, restart, check. */
export async function run(dir: string, writes = 1000): Promise<RunReport> {
  const positionAtStop = await withNode(dir, async (node, map) => {
    await Promise.all(Array.from({ length: writes }, (_, i) => node.propose(encodeCommand({ key: `k${i}`, value: `v${i}` }))));
    return map.position().index;
  });

  let reapplied = 0;
  const restarted = await withNode(
    dir,
    async (node, map) => {
      await node.read(() => undefined); // once the node has applied all it committed
      return { lastValue: map.get(`k${writes - 1}`), keys: map.size() };
    },
    (entries) => (reapplied += entries.filter((e) => e.index <= positionAtStop).length),
  );
  return { positionAtStop, reappliedAfterRestart: reapplied, ...restarted };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sqlite-map-'));
  const report = await run(dir);
  console.log(`map in ${dir}: ${report.keys} keys, k999 = ${report.lastValue}`);
  console.log(`stopped at index ${report.positionAtStop}; entries applied again after the restart: ${report.reappliedAfterRestart}`);
}
