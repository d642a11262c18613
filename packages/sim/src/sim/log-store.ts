/**
 * The simulated disk of one node and the LogStore each of its incarnations writes through.
 *
 * A write is durable after a simulated fsync delay, in the order writes were made; append()
 * resolves only then (seen by the node's process, so not while it is paused). A crash loses
 * exactly the writes not yet durable; with `tear`, the oldest of them (the one the disk was in
 * the middle of) leaves a prefix of its entries behind without its hard state, as a torn tail
 * of a write-ahead log does after its checksums have been checked.
 *
 * A disk can also lie (`lyingFsync`, a planted bug: a write cache that acknowledges before the
 * data is on the platter): append() then resolves at once and the write becomes durable later.
 */
import type { ConfState, Entry, HardState, LogStore, LogWrite, Snapshot } from '@pontoon/raft';
import { MemoryStorage } from '@pontoon/raft/core';
import type { NodeClock } from './node-clock.js';
import type { SimRandom } from './random.js';
import type { Scheduler } from './scheduler.js';

/** How a disk behaves. */
export interface DiskOptions {
  /** Smallest fsync delay, ms. Default 1. */
  minFsyncMs?: number;
  /** Largest fsync delay (uniform), ms. Default 3. */
  maxFsyncMs?: number;
  /**
   * A crash tears the write in progress (see the module comment), unless it is the disk's very
   * first write (the bootstrap, which RaftNode needs whole). Default false.
   */
  tearOnCrash?: boolean;
  /**
   * Acknowledge writes before they are durable (a planted bug the checkers must catch: a write
   * cache that flushes lazily). The data reaches the disk `lyingFsyncLagMs` later. Default false.
   */
  lyingFsync?: boolean;
  /** How long a lying disk takes to really persist an acknowledged write, ms. Default 100. */
  lyingFsyncLagMs?: number;
}

function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || (s.metadata.index === 0 && s.metadata.confState.voters.length === 0);
}

/** Applies one write to a storage, as one atomic step. */
function writeTo(storage: MemoryStorage, w: LogWrite): void {
  if (w.snapshot !== undefined && !isEmptySnapshot(w.snapshot)) storage.applySnapshot(w.snapshot);
  storage.append(w.entries);
  const hs = w.hardState;
  if (hs !== undefined && (hs.term !== 0 || hs.vote !== 0 || hs.commit !== 0)) storage.setHardState(hs);
}

/** A fresh storage holding what `from` holds (entries covered by its snapshot may be left out). */
function copyStorage(from: MemoryStorage): MemoryStorage {
  const to = new MemoryStorage();
  const snap = from.snapshot();
  if (!isEmptySnapshot(snap)) to.applySnapshot(snap);
  const lo = Math.max(from.firstIndex(), snap.metadata.index + 1);
  const hi = from.lastIndex();
  if (hi >= lo) to.append(from.entries(lo, hi + 1, Infinity));
  to.setHardState(from.initialState().hardState);
  return to;
}

interface PendingWrite {
  write: LogWrite;
  /** Virtual time at which it becomes durable (unless the disk stalls). */
  at: number;
  onDurable: () => void;
}

/** One node's disk: what survives its crashes. */
export class SimDisk {
  /** What is on stable storage. */
  readonly durable = new MemoryStorage();
  private readonly minFsync: number;
  private readonly maxFsync: number;
  private readonly tear: boolean;
  readonly lying: boolean;
  private readonly lyingLag: number;
  /** Writes issued but not yet durable, oldest first. */
  private pending: PendingWrite[] = [];
  /** Until when fsyncs do not complete (a stalled disk), virtual ms. */
  private stalledUntil = 0;
  /** The completion time of the last write issued: writes complete in order. */
  private lastDone = 0;
  private incarnation: SimLogStore | undefined;
  /** Counters. */
  writes = 0;
  lostWrites = 0;
  tornWrites = 0;

  constructor(
    readonly nodeId: number,
    private readonly scheduler: Scheduler,
    private readonly rand: SimRandom,
    options: DiskOptions = {},
  ) {
    this.minFsync = options.minFsyncMs ?? 1;
    this.maxFsync = options.maxFsyncMs ?? 3;
    this.tear = options.tearOnCrash ?? false;
    this.lying = options.lyingFsync ?? false;
    this.lyingLag = options.lyingFsyncLagMs ?? 100;
  }

  /** Whether the durable state is empty (a node that never wrote anything). */
  get blank(): boolean {
    return this.durable.lastIndex() === 0 && isEmptySnapshot(this.durable.snapshot());
  }

  /** A LogStore for a new incarnation of the node, over what is durable. */
  open(clock: NodeClock): SimLogStore {
    const view = this.lying ? copyStorage(this.durable) : this.durable;
    const store = new SimLogStore(this, view, clock);
    this.incarnation = store;
    return store;
  }

  /** Fsyncs stop completing until `until` (virtual ms). */
  stall(until: number): void {
    this.stalledUntil = Math.max(this.stalledUntil, until);
  }

  /** Ends a stall now: the writes it held complete as soon as they are due. */
  endStall(): void {
    const now = this.scheduler.now();
    if (this.stalledUntil <= now) return;
    this.stalledUntil = 0;
    // What the stall held back is flushed at once, as a disk catching up does.
    for (const p of this.pending) p.at = Math.min(p.at, now);
    this.lastDone = Math.min(this.lastDone, now);
    this.scheduler.schedule(0, this.flush);
  }

  /**
   * The node's process died: writes not yet durable are lost, the oldest torn when `tear`
   * (default: the disk's `tearOnCrash`). Returns how many were lost.
   */
  crash(tear = this.tear): number {
    const lost = this.pending;
    this.pending = [];
    this.incarnation?.kill();
    this.incarnation = undefined;
    // The bootstrap write (a blank disk's first) is never torn: RaftNode takes a log without a
    // hard state for an existing member and waits forever for a configuration it cannot commit.
    if (tear && lost.length > 0 && !this.blank) {
      const w = lost[0]!.write;
      if (isEmptySnapshot(w.snapshot) && w.entries.length > 0) {
        const keep = this.rand.between(1, w.entries.length);
        this.durable.append(w.entries.slice(0, keep));
        this.tornWrites++;
      }
    }
    this.lostWrites += lost.length;
    return lost.length;
  }

  /** @internal Issues a write; `onDurable` runs when it is on stable storage. */
  issue(write: LogWrite, onDurable: () => void): void {
    this.writes++;
    const now = this.scheduler.now();
    const fsync = this.rand.between(this.minFsync, this.maxFsync) + (this.lying ? this.lyingLag : 0);
    const at = Math.max(now + fsync, this.lastDone, this.stalledUntil);
    this.lastDone = at;
    this.pending.push({ write, at, onDurable });
    this.scheduler.scheduleAt(at, this.flush);
  }

  /** Completes, in order, the writes that are due, unless the disk is stalled. */
  private readonly flush = (): void => {
    const now = this.scheduler.now();
    if (this.stalledUntil > now) {
      // A stall that began after these writes were issued holds them back.
      this.scheduler.scheduleAt(this.stalledUntil, this.flush);
      return;
    }
    while (this.pending.length > 0 && this.pending[0]!.at <= now) {
      const p = this.pending.shift()!;
      writeTo(this.durable, p.write);
      p.onDurable();
    }
  };
}

/** The LogStore of one incarnation of a node, over its SimDisk. */
export class SimLogStore implements LogStore {
  private dead = false;

  /** Use SimDisk.open(). */
  constructor(
    private readonly disk: SimDisk,
    /** What this incarnation reads: the durable storage, or (lying disk) its own cache. */
    private readonly view: MemoryStorage,
    private readonly clock: NodeClock,
  ) {}

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.view.initialState();
  }
  entries(lo: number, hi: number, maxSize: number): Entry[] {
    return this.view.entries(lo, hi, maxSize);
  }
  term(i: number): number {
    return this.view.term(i);
  }
  firstIndex(): number {
    return this.view.firstIndex();
  }
  lastIndex(): number {
    return this.view.lastIndex();
  }
  snapshot(): Snapshot {
    return this.view.snapshot();
  }

  append(write: LogWrite): Promise<void> {
    // A dead process's writes never reach the disk and never complete.
    if (this.dead) return new Promise<void>(() => {});
    if (this.disk.lying) {
      writeTo(this.view, write);
      this.disk.issue(write, () => {});
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.disk.issue(write, () => this.clock.gate(resolve));
    });
  }

  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    if (this.dead) return new Promise<Snapshot>(() => {});
    // Durable at once, ahead of appends still in flight: a store may order them so, and RaftNode
    // must cope (it snapshots only at or below the durable commit index).
    return this.view.createSnapshot(index, confState, data);
  }

  async compact(index: number): Promise<void> {
    if (this.dead) return new Promise<void>(() => {});
    if (index >= this.view.firstIndex()) this.view.compact(index);
  }

  async close(): Promise<void> {}

  /** @internal The process died. */
  kill(): void {
    this.dead = true;
  }
}
