/**
 * The replicated state machine of the simulation: the list of the payloads of the normal
 * entries applied so far, and the index of the last applied entry. Small on purpose; what matters
 * is that every node ends up with the same list, in the same order, at the same indices.
 */
import { type Entry, EntryType, type Snapshot } from '@pontoon/raft/core';
import { SafetyViolation } from './safety-checker.js';

/** One applied command: its log index and payload. */
export interface AppliedCommand {
  index: number;
  data: string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class ReplicatedList {
  /** The index of the last entry applied (or of the snapshot restored). */
  appliedIndex = 0;
  readonly commands: AppliedCommand[] = [];

  /** A state machine restored from a snapshot's payload (empty for "no snapshot"). */
  static fromSnapshot(snap: Snapshot): ReplicatedList {
    const sm = new ReplicatedList();
    sm.restore(snap);
    return sm;
  }

  /**
   * Applies the next committed entry. Entries come in log order, each exactly once: a gap or a
   * repeat means a committed entry was skipped or applied twice (Raft §5.4.3).
   */
  apply(e: Entry, node: number): void {
    if (e.index !== this.appliedIndex + 1) {
      throw new SafetyViolation(
        'state-machine-safety',
        `node ${node} applied index ${e.index} right after index ${this.appliedIndex}`,
      );
    }
    this.appliedIndex = e.index;
    if (e.type === EntryType.EntryNormal && e.data.length > 0) {
      this.commands.push({ index: e.index, data: decoder.decode(e.data) });
    }
  }

  /** Replaces the state with a snapshot's. A snapshot never takes the state back in time. */
  restore(snap: Snapshot): void {
    const index = snap.metadata.index;
    if (index < this.appliedIndex) {
      throw new SafetyViolation(
        'state-machine-safety',
        `restoring snapshot at index ${index} would undo entries applied up to ${this.appliedIndex}`,
      );
    }
    this.commands.length = 0;
    if (index > 0) {
      const decoded = JSON.parse(decoder.decode(snap.data)) as [number, string][];
      for (const [i, data] of decoded) this.commands.push({ index: i, data });
    }
    this.appliedIndex = index;
  }

  /** The payload of a snapshot of the state as of `index` (<= appliedIndex). */
  snapshotData(index: number): Uint8Array {
    const upTo = this.commands.filter((c) => c.index <= index).map((c): [number, string] => [c.index, c.data]);
    return encoder.encode(JSON.stringify(upTo));
  }

  /** Whether a command with this payload was applied. */
  has(data: string): boolean {
    return this.commands.some((c) => c.data === data);
  }
}
