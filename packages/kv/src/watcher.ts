/**
 * One watcher (etcd's mvcc watcher): the range it watches, the next revision it is owed
 * (`minRev`), its options, and the bounded queue of responses its consumer reads as an async
 * iterable. A full queue never blocks the store: the hub moves the watcher aside (victim) and
 * retries when the consumer has read.
 */
import { compareBytes } from './bytes.js';
import type { KeyValue } from './types.js';

export interface WatchFilters {
  /** Leave put events out. */
  noPut?: boolean;
  /** Leave delete events out. */
  noDelete?: boolean;
}

/** etcd's WatchCreateRequest. */
export interface WatchRequest {
  key: Uint8Array;
  /** As RangeRequest.rangeEnd. */
  rangeEnd?: Uint8Array;
  /** First revision to report (0 or absent: the next one, i.e. only future changes). */
  startRevision?: number;
  /** Attach each key's previous kv to its events. */
  prevKv?: boolean;
  filters?: WatchFilters;
  /** Send periodic progress notifications (empty responses with the revision) while idle. */
  progressNotify?: boolean;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For a delete: the key and the revision of the delete (mod_revision), as etcd sends it. */
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface WatchResponse {
  watchId: number;
  /**
   * The revision the watcher has seen everything up to (for a progress notification, the
   * store's revision). Resume with startRevision = revision + 1.
   */
  revision: number;
  events: WatchEvent[];
  /** Non-zero when the watch was cancelled because its start revision was compacted. */
  compactRevision: number;
  canceled: boolean;
}

/** etcd's chanBufLen: responses a watcher may have unread before it becomes a victim. */
export const DEFAULT_WATCHER_BUFFER = 128;

export class Watcher implements AsyncIterable<WatchResponse> {
  /** The next revision this watcher has not been sent. */
  minRev: number;
  /** True while the hub holds an undelivered batch for it (the victim set). */
  victim = false;
  /** Cancelled by the client or by compaction; receives nothing more. */
  canceled = false;
  private readonly queue: WatchResponse[] = [];
  private wake: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly key: Uint8Array,
    /** undefined: the key alone; empty: every key from `key` on; else [key, end). */
    readonly end: Uint8Array | undefined,
    startRev: number,
    readonly prevKv: boolean,
    readonly filters: WatchFilters,
    readonly progressNotify: boolean,
    private readonly capacity: number,
    /** Called when the consumer read a response (room for a victim's batch) or stopped. */
    private readonly onDrained: (w: Watcher) => void,
    private readonly onReturn: (w: Watcher) => void,
  ) {
    this.minRev = startRev;
  }

  contains(key: Uint8Array): boolean {
    if (this.end === undefined) return compareBytes(key, this.key) === 0;
    if (compareBytes(key, this.key) < 0) return false;
    return this.end.length === 0 || compareBytes(key, this.end) < 0;
  }

  /** Queues a response unless the queue is full; cancel responses always fit. */
  trySend(resp: WatchResponse): boolean {
    if (this.canceled) return true;
    if (this.queue.length >= this.capacity && !resp.canceled) return false;
    this.queue.push(resp);
    if (resp.canceled) this.canceled = true;
    this.wake?.();
    this.wake = undefined;
    return true;
  }

  /** Unread responses. */
  get pending(): number {
    return this.queue.length;
  }

  /** Ends the stream: the consumer's loop finishes after the responses already queued. */
  close(): void {
    this.canceled = true;
    this.wake?.();
    this.wake = undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    try {
      for (;;) {
        const next = this.queue.shift();
        if (next !== undefined) {
          this.onDrained(this);
          yield next;
          if (next.canceled) return;
          continue;
        }
        if (this.canceled) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      this.onReturn(this);
    }
  }
}
