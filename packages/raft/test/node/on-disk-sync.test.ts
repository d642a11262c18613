/**
 * An on-disk state machine that commits without syncing (SQLite at synchronous=NORMAL) offers
 * sync(): RaftNode must call it before it compacts its log behind a snapshot, never while a batch
 * is being applied, so that a power failure can only lose batches the log still holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogStore, MemoryNetwork, RaftNode } from '../../src/index.js';
import type { Entry, LogPosition, OnDiskStateMachine, SnapshotSink, SnapshotSource } from '../../src/index.js';
import { fastTiming, set, waitFor } from './support.js';

/** Applied entries are "written" at once and "durable" only once sync() ran. */
class LazyDiskMachine implements OnDiskStateMachine<undefined> {
  applied: LogPosition = { index: 0, term: 0 };
  durable: LogPosition = { index: 0, term: 0 };
  syncs = 0;
  applying = false;
  overlapped = false;

  position(): LogPosition {
    return this.applied;
  }
  async applyBatch(entries: readonly Readonly<Entry>[]): Promise<undefined[]> {
    if (this.applying) this.overlapped = true;
    this.applying = true;
    await new Promise((resolve) => setImmediate(resolve));
    const last = entries[entries.length - 1]!;
    this.applied = { index: last.index, term: last.term };
    this.applying = false;
    return entries.map(() => undefined);
  }
  async sync(): Promise<void> {
    if (this.applying) this.overlapped = true;
    await new Promise((resolve) => setImmediate(resolve));
    this.syncs++;
    this.durable = this.applied;
  }
  openSnapshot(): Promise<SnapshotSource> {
    throw new Error('not used: a single node sends no snapshot');
  }
  receiveSnapshot(): Promise<SnapshotSink> {
    throw new Error('not used: a single node receives no snapshot');
  }
  installSnapshot(): Promise<LogPosition> {
    throw new Error('not used: a single node installs no snapshot');
  }
}

/** A MemoryLogStore that records how far the state machine was durable at each compaction. */
class WatchedLogStore extends MemoryLogStore {
  compactions: { to: number; durable: number }[] = [];
  constructor(private readonly sm: LazyDiskMachine) {
    super();
  }
  override async compact(index: number): Promise<void> {
    this.compactions.push({ to: index, durable: this.sm.durable.index });
    await super.compact(index);
  }
}

let node: RaftNode<LazyDiskMachine> | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

describe('RaftNode: an on-disk state machine with sync()', () => {
  it('is synced before the log is compacted behind a snapshot, between batches', async () => {
    const sm = new LazyDiskMachine();
    const logStore = new WatchedLogStore(sm);
    node = new RaftNode({
      id: 1,
      logStore,
      transport: new MemoryNetwork().transport(1),
      stateMachine: sm,
      initialMembers: [{ id: 1, address: 'mem://1' }],
      snapshot: { everyEntries: 5, keepEntries: 0 },
      ...fastTiming,
    });
    const taken: number[] = [];
    node.on('snapshotTaken', (e) => taken.push(e.index));
    await waitFor(() => node!.status().role === 'leader', { what: 'a leader' });
    for (let i = 0; i < 23; i++) await node.propose(set(`k${i}`, String(i)));
    await waitFor(() => taken.length >= 3, { what: 'three snapshots' });
    expect(logStore.compactions.length).toBeGreaterThanOrEqual(3);
    for (const c of logStore.compactions) expect(c.durable).toBeGreaterThanOrEqual(c.to);
    expect(sm.syncs).toBeGreaterThanOrEqual(3);
    expect(sm.overlapped).toBe(false);
  });
});
