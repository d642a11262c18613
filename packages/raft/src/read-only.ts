import type { Message } from './types.js';
import { ReadOnlyOption } from './config.js';

/**
 * The answer to a ReadIndex request: once the application has applied up to `index`, reads
 * issued before the request may be served. `requestCtx` identifies the request.
 */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/** A pending ReadIndex request on the leader, waiting for a quorum of heartbeat acks. */
export interface ReadIndexStatus {
  req: Message;
  /** The leader's commit index when the request arrived: the read index. */
  index: number;
  /** Voters that acknowledged a heartbeat carrying this request's context. */
  acks: Map<number, boolean>;
}

/** A request context as a map key; contexts are opaque bytes chosen by the application. */
export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

/**
 * ReadIndex bookkeeping on the leader (Raft thesis §6.4): each request records the commit
 * index and is answered once a quorum has acknowledged a heartbeat sent after it, which proves
 * that the leader was still the leader when the request arrived.
 */
export class ReadOnly {
  readonly option: ReadOnlyOption;
  private readonly pendingReadIndex = new Map<string, ReadIndexStatus>();
  private readIndexQueue: string[] = [];

  constructor(option: ReadOnlyOption) {
    this.option = option;
  }

  /** Records a request arriving while the commit index is `index`. Duplicates are ignored. */
  addRequest(index: number, m: Message): void {
    const key = contextKey(m.entries[0]!.data);
    if (this.pendingReadIndex.has(key)) return;
    this.pendingReadIndex.set(key, { index, req: m, acks: new Map() });
    this.readIndexQueue.push(key);
  }

  /** Records a heartbeat ack for the request with this context; returns its acks so far. */
  recvAck(id: number, context: Uint8Array): Map<number, boolean> | undefined {
    const rs = this.pendingReadIndex.get(contextKey(context));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /**
   * Dequeues the request with the context of `m` and every request queued before it: a quorum
   * ack for a later request confirms the earlier ones too.
   */
  advance(m: Message): ReadIndexStatus[] {
    const ctx = contextKey(m.context ?? new Uint8Array(0));
    let i = 0;
    let found = false;
    const rss: ReadIndexStatus[] = [];
    for (const okctx of this.readIndexQueue) {
      i++;
      const rs = this.pendingReadIndex.get(okctx);
      if (rs === undefined) throw new Error('invariant violated: read index queue and map out of sync');
      rss.push(rs);
      if (okctx === ctx) {
        found = true;
        break;
      }
    }
    if (!found) return [];
    this.readIndexQueue = this.readIndexQueue.slice(i);
    for (const rs of rss) this.pendingReadIndex.delete(contextKey(rs.req.entries[0]!.data));
    return rss;
  }

  /** The context of the newest pending request, to piggyback on heartbeats; undefined if none. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.readIndexQueue.length === 0) return undefined;
    const key = this.readIndexQueue[this.readIndexQueue.length - 1]!;
    return this.pendingReadIndex.get(key)!.req.entries[0]!.data;
  }

  /** Number of requests waiting for confirmation. */
  pendingCount(): number {
    return this.readIndexQueue.length;
  }
}
