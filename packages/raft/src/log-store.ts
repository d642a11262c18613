import type { Storage } from './storage.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';

/** What one Ready asks to persist, written atomically by a LogStore. */
export interface LogWrite {
  /** The new hard state, when it changed. */
  hardState?: HardState | undefined;
  /**
   * New entries. Entries at or after the first one's index that are already stored are
   * replaced: a new leader may overwrite an uncommitted suffix.
   */
  entries: readonly Entry[];
  /** A snapshot received from the leader, to install before the entries. */
  snapshot?: Snapshot | undefined;
  /**
   * False when the write need not be on stable storage before append() resolves: no entries,
   * no snapshot, and a hard state whose term and vote are unchanged, only the commit index moved
   * (Ready.mustSync false; Raft keeps commitIndex in volatile state). A store may then skip the
   * fsync, or hold the write back and let it ride with the next one, as long as it is never lost
   * while a later write survives: a crash may take it only together with every write after it.
   * Default true.
   */
  sync?: boolean | undefined;
}

/**
 * A durable Raft log: the core reads it synchronously through Storage, the node driver writes
 * it through append(). Implementations must make each append atomic (all of it or none of it
 * survives a crash) and resolve its promise only once the write is durable: the driver sends
 * acknowledgements that depend on it only then. The core reads entries from its own unstable log
 * until they are durable, so a store may serve reads from memory as long as it never hands out
 * an entry that a later write in flight replaces.
 */
export interface LogStore extends Storage {
  /** Persists one Ready's worth of state; resolves when durable. Writes apply in call order. */
  append(write: LogWrite): Promise<void>;
  /**
   * Records a snapshot of the local state machine taken at `index` (<= applied), with the
   * configuration at that index. Does not drop entries; see compact().
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot>;
  /**
   * Drops entries up to and including `index` (which must be covered by a snapshot); the first
   * index becomes `index + 1`, as with MemoryStorage.compact().
   */
  compact(index: number): Promise<void>;
  /** Flushes and releases the store. Idempotent. */
  close(): Promise<void>;
}
