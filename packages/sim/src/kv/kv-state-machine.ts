/**
 * The test key-value state machine the simulator replicates: put and append on string keys,
 * reads through RaftNode.read(). Its snapshot is its whole map, as JSON.
 */
import type { Entry, StateMachine } from '@pontoon/raft';
import { decodeKvWrite } from './kv-command.js';

/** What a write returns to its proposer. */
export type KvWriteResult = { op: 'put' } | { op: 'append' };

/** Planted bugs, for tests that prove the checkers catch them. */
export interface KvBugs {
  /** Applies each odd-indexed write after the one that follows it. */
  applyOutOfOrder?: boolean;
}

export class KvStateMachine implements StateMachine<KvWriteResult> {
  private data = new Map<string, string>();
  private held: Entry | undefined;

  constructor(private readonly bugs: KvBugs = {}) {}

  /** The value of `key` ('' when never written, as in the kv model). */
  get(key: string): string {
    return this.data.get(key) ?? '';
  }

  apply(entry: Readonly<Entry>): KvWriteResult {
    if (this.bugs.applyOutOfOrder === true) {
      if (this.held === undefined && entry.index % 2 === 1) {
        this.held = entry;
        return { op: decodeKvWrite(entry.data).op };
      }
      const r = this.applyNow(entry);
      if (this.held !== undefined) this.applyNow(this.held);
      this.held = undefined;
      return r;
    }
    return this.applyNow(entry);
  }

  private applyNow(entry: Readonly<Entry>): KvWriteResult {
    const w = decodeKvWrite(entry.data);
    if (w.op === 'put') this.data.set(w.key, w.value);
    else this.data.set(w.key, (this.data.get(w.key) ?? '') + w.value);
    return { op: w.op };
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.data].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))));
  }

  restore(bytes: Uint8Array): void {
    this.data = new Map(JSON.parse(new TextDecoder().decode(bytes)) as Array<[string, string]>);
    this.held = undefined;
  }
}
