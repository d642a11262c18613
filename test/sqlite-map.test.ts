/**
 * RaftNode over an OnDiskStateMachine (examples/sqlite-map): the README's example runs; a
 * restart after 100,000 applied entries hands none of them to the state machine again; a new
 * member gets the leader's state as a streamed snapshot and goes on from it; a restart in the
 * middle of an install (the snapshot recorded, its staged copy not yet installed) finishes the
 * install when the node starts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { MemoryLogStore, MemoryNetwork, RaftNode, type Entry } from '../packages/raft/src/index.js';
import { SqliteLogStore } from '../packages/storage-sqlite/src/index.js';
import { run } from '../examples/sqlite-map/main.js';
import { SqliteMap, encodeCommand } from '../examples/sqlite-map/sqlite-map.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-sqlite-map-'));
  dirs.push(dir);
  return dir;
}
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('runs the README example: the map is whole after a restart, and nothing is applied twice', async () => {
  const report = await run(tempDir(), 1000);
  expect(report).toEqual({ positionAtStop: expect.any(Number), reappliedAfterRestart: 0, lastValue: 'v999', keys: 1000 });
  // 1,000 commands after the bootstrap entry and the first leader's empty entry.
  expect(report.positionAtStop).toBe(1002);
});

it('restarts after 100,000 applied entries without handing any of them to the state machine again', async () => {
  const dir = tempDir();
  const open = async (onApply: (entries: readonly Readonly<Entry>[]) => void): Promise<{ node: RaftNode<SqliteMap>; map: SqliteMap }> => {
    const logStore = await SqliteLogStore.open(path.join(dir, 'log'));
    // synchronous=normal: the test is about counting, not about fsyncs.
    const map = SqliteMap.open(path.join(dir, 'map'), { onApply, synchronous: 'normal' });
    const node = new RaftNode({
      id: 1,
      initialMembers: [{ id: 1, address: 'n1' }],
      logStore,
      transport: new MemoryNetwork().transport(1),
      stateMachine: map,
      tickMs: 10,
      snapshot: { everyEntries: 20_000, keepEntries: 5_000 },
    });
    return { node, map };
  };
  let batches = 0;
  let applied = 0;
  const first = await open((entries) => {
    batches++;
    applied += entries.length;
  });
  await until('a leader', () => first.node.isLeader);
  for (let i = 0; i < 100_000; i += 2_000) {
    await Promise.all(Array.from({ length: 2_000 }, (_, k) => first.node.propose(encodeCommand({ key: `k${(i + k) % 5000}`, value: `v${i + k}` }))));
  }
  const before = first.map.position();
  expect(before.index).toBeGreaterThanOrEqual(100_001);
  expect(applied).toBe(before.index);
  // Batched: far fewer calls (transactions) than entries.
  expect(batches).toBeLessThan(applied / 20);
  await first.node.stop();
  first.map.close();

  const handedOver: number[] = [];
  const second = await open((entries) => handedOver.push(...entries.map((e) => e.index)));
  cleanups.push(async () => {
    await second.node.stop();
    second.map.close();
  });
  await until('a leader again', () => second.node.isLeader);
  // The new term's first entry, which the node appends once it leads.
  await until('the new leader to apply its first entry', () => second.map.position().index > before.index);
  expect(handedOver.filter((i) => i <= before.index)).toEqual([]);
  // Only the new leader's empty entry was applied.
  expect(handedOver).toEqual([before.index + 1]);
  expect(second.map.get('k4999')).toBe('v99999');
  expect(second.map.size()).toBe(5000);
}, 120_000);

it('moves the state to a new member as a streamed snapshot, which then restarts without replay', async () => {
  const dir = tempDir();
  const network = new MemoryNetwork();
  const members = [1, 2, 3].map((id) => ({ id, address: `n${id}` }));
  const stores = new Map<number, MemoryLogStore>();
  const maps = new Map<number, SqliteMap>();
  const applied = new Map<number, number[]>();
  const running = new Map<number, RaftNode<SqliteMap>>();
  const start = (id: number, join: boolean): RaftNode<SqliteMap> => {
    const store = stores.get(id) ?? new MemoryLogStore();
    stores.set(id, store);
    const map = SqliteMap.open(path.join(dir, `n${id}`), { onApply: (es) => applied.get(id)!.push(...es.map((e) => e.index)), chunkBytes: 64 * 1024 });
    maps.set(id, map);
    applied.set(id, []);
    const node = new RaftNode({
      id,
      initialMembers: members,
      join,
      logStore: store,
      transport: network.transport(id),
      stateMachine: map,
      tickMs: 10,
      closeLogStoreOnStop: false,
      snapshot: { everyEntries: 500, keepEntries: 100 },
    });
    running.set(id, node);
    cleanups.push(async () => {
      await node.stop();
      if (maps.get(id) === map) map.close();
    });
    return node;
  };
  const nodes = [1, 2, 3].map((id) => start(id, false));
  await until('a leader', () => nodes.some((n) => n.isLeader));
  const leader = nodes.find((n) => n.isLeader)!;
  for (let i = 0; i < 3000; i += 250) {
    await Promise.all(Array.from({ length: 250 }, (_, k) => leader.propose(encodeCommand({ key: `k${i + k}`, value: 'x'.repeat(200) }))));
  }
  // A proposal on a follower is forwarded, and settles there with applyBatch()'s result.
  const follower = nodes.find((n) => !n.isLeader)!;
  expect(await follower.propose(encodeCommand({ key: 'k7', value: 'changed' }))).toBe('x'.repeat(200));
  await until('the leader to apply the forwarded write', () => maps.get(leader.id)!.get('k7') === 'changed');
  const taken = await leader.snapshot();
  expect(stores.get(leader.id)!.firstIndex()).toBeGreaterThan(2000); // the early log is gone

  const installed = new Promise<{ index: number; bytes: number }>((resolve) => {
    const n4 = start(4, true);
    n4.once('snapshotInstalled', resolve);
  });
  await leader.addVoter(4, 'n4');
  const snap = await installed;
  expect(snap.index).toBeGreaterThanOrEqual(taken.index);
  expect(snap.bytes).toBeGreaterThan(3000 * 200); // the state itself, not a header
  // Nothing at or below the snapshot went through n4's applyBatch: it came in the copy.
  await leader.propose(encodeCommand({ key: 'after', value: 'yes' }));
  await until('n4 to apply the write after the snapshot', () => maps.get(4)!.get('after') === 'yes');
  expect(applied.get(4)!.filter((i) => i <= snap.index)).toEqual([]);
  expect(maps.get(4)!.size()).toBe(3001);
  expect(maps.get(4)!.get('k2999')).toBe('x'.repeat(200));
  expect(maps.get(4)!.get('k7')).toBe('changed');

  // Restart n4 over its files (and its log store): it goes on from its map's position.
  await running.get(4)!.stop();
  const position = maps.get(4)!.position().index;
  maps.get(4)!.close();
  start(4, true);
  await leader.propose(encodeCommand({ key: 'after-restart', value: 'yes' }));
  await until('the restarted n4 to apply a new write', () => maps.get(4)!.get('after-restart') === 'yes');
  expect(applied.get(4)!.filter((i) => i <= position)).toEqual([]);
  expect(maps.get(4)!.size()).toBe(3002);
}, 120_000);
