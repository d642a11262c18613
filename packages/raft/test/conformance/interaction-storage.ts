/**
 * The storage of a node in an InteractionEnv: a MemoryStorage whose snapshot() is the latest
 * state of the node's (appender) state machine rather than whatever MemoryStorage last
 * recorded, as etcd's rafttest snapOverrideStorage does.
 */
import { MemoryStorage } from '../../src/storage.js';
import type { Snapshot } from '../../src/types.js';

export class InteractionStorage extends MemoryStorage {
  /** Returns the snapshot to hand out; set by the env once the node exists. */
  snapshotOverride: (() => Snapshot) | undefined;

  override snapshot(): Snapshot {
    if (this.snapshotOverride !== undefined) return this.snapshotOverride();
    return super.snapshot();
  }
}
