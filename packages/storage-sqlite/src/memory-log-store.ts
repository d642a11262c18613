/**
 * MemoryLogStore: the LogStore contract over a MemoryStorage, with no disk. The reference the
 * conformance suite is checked against, and a store for tests. "Durable" here means "in the
 * MemoryStorage": reopen() hands out a new store over the same one, as a restart would.
 */
import {
  type ConfState,
  type Entry,
  type HardState,
  type LogStore,
  type LogWrite,
  MemoryStorage,
  type Snapshot,
  isEmptyHardState,
} from '@pontoon/raft';

export class MemoryLogStore implements LogStore {
  /** The "disk": survives reopen(). */
  readonly storage: MemoryStorage;

  constructor(storage: MemoryStorage = new MemoryStorage()) {
    this.storage = storage;
  }

  /** A new store over the same storage, as after a restart. */
  reopen(): MemoryLogStore {
    return new MemoryLogStore(this.storage);
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

  async append(write: LogWrite): Promise<void> {
    const snap = write.snapshot;
    // An empty snapshot (index 0, no members) means "none"; index 0 with members bootstraps.
    if (snap !== undefined && (snap.metadata.index !== 0 || snap.metadata.confState.voters.length > 0)) {
      this.storage.applySnapshot(snap);
    }
    this.storage.append(write.entries);
    if (write.hardState !== undefined && !isEmptyHardState(write.hardState)) this.storage.setHardState(write.hardState);
  }

  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    return this.storage.createSnapshot(index, confState, data);
  }

  async compact(index: number): Promise<void> {
    this.storage.compact(index);
  }

  async close(): Promise<void> {}
}
