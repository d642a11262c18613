/**
 * MemoryLogStore: a LogStore over a MemoryStorage, for tests and for users who want a node
 * without a disk. "Durable" means "in the MemoryStorage": a new RaftNode built over the same
 * store object sees everything an earlier one persisted, as after a restart.
 */
import type { LogStore, LogWrite } from '../log-store.js';
import { MemoryStorage } from '../storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../types.js';
import { isEmptyHardState } from '../types.js';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';

/** Options of a MemoryLogStore. */
export interface MemoryLogStoreOptions {
  /** The storage to write to ("the disk"). Default: a new, empty one. */
  storage?: MemoryStorage | undefined;
  /**
   * Simulated time an append takes to become durable, in ms, or a function drawing it per
   * write. Appends still complete in call order. Default 0: durable at once.
   */
  writeLatencyMs?: (number | (() => number)) | undefined;
  /** The clock the latency is measured on. Default: Node's timers. */
  clock?: Clock | undefined;
}

/**
 * A LogStore held in memory. A write becomes visible through the Storage methods when it is
 * durable, i.e. when its promise resolves (after the simulated latency); writes complete in the
 * order they were made. close() waits for writes in flight and leaves the contents in place.
 */
export class MemoryLogStore implements LogStore {
  /** The "disk". */
  readonly storage: MemoryStorage;
  /** How many append() calls were made (each one a group commit / fsync in a real store). */
  appendCount = 0;
  private readonly latency: () => number;
  private readonly clock: Clock;
  /** The completion of the last write in flight, or undefined when none is. */
  private tail: Promise<void> | undefined;
  private pending = 0;

  constructor(options: MemoryLogStoreOptions = {}) {
    this.storage = options.storage ?? new MemoryStorage();
    const l = options.writeLatencyMs ?? 0;
    this.latency = typeof l === 'function' ? l : () => l;
    this.clock = options.clock ?? realClock;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.storage.initialState();
  }
  entries(lo: number, hi: number, maxSize: number): Entry[] {
    return this.storage.entries(lo, hi, maxSize);
  }
  term(i: number): number {
    return this.storage.term(i);
  }
  firstIndex(): number {
    return this.storage.firstIndex();
  }
  lastIndex(): number {
    return this.storage.lastIndex();
  }
  snapshot(): Snapshot {
    return this.storage.snapshot();
  }

  append(write: LogWrite): Promise<void> {
    this.appendCount++;
    const ms = this.latency();
    if (ms <= 0 && this.pending === 0) {
      try {
        this.write(write);
      } catch (err) {
        return Promise.reject(err);
      }
      return Promise.resolve();
    }
    this.pending++;
    const previous = this.tail ?? Promise.resolve();
    // Each write waits out its own latency and every earlier write: completions stay in order
    // while latencies overlap, as the writes of one fsync group would.
    const done = Promise.all([previous, this.delay(ms)]).then(() => this.write(write));
    const tail: Promise<void> = done.then(
      (): void => this.settled(tail),
      (): void => this.settled(tail),
    );
    this.tail = tail;
    return done;
  }

  private settled(tail: Promise<void>): void {
    this.pending--;
    if (this.tail === tail) this.tail = undefined;
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  private write(w: LogWrite): void {
    const snap = w.snapshot;
    // An empty snapshot (index 0, no members) means "none"; index 0 with members bootstraps.
    if (snap !== undefined && (snap.metadata.index !== 0 || snap.metadata.confState.voters.length > 0)) {
      this.storage.applySnapshot(snap);
    }
    this.storage.append(w.entries);
    if (w.hardState !== undefined && !isEmptyHardState(w.hardState)) this.storage.setHardState(w.hardState);
  }

  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    return this.storage.createSnapshot(index, confState, data);
  }

  /** Drops entries up to `index` (which must be covered by a snapshot); as MemoryStorage.compact. */
  async compact(index: number): Promise<void> {
    this.storage.compact(index);
  }

  /** Waits for the writes in flight. The contents stay: the store can back a restarted node. */
  async close(): Promise<void> {
    while (this.tail !== undefined) await this.tail;
  }
}
