/**
 * Linearizable reads through ReadIndex (Raft thesis §6.4): the reads of one turn of the event
 * loop share one request; each batch runs once this node has applied up to the read index the
 * leader confirmed. Requests lost on the way (no leader, a dropped message, a leader change)
 * are asked again with a new context.
 */
import { randomBytes } from 'node:crypto';
import { contextKey } from '../read-only.js';
import type { ReadState } from '../read-only.js';
import type { CallOptions } from './call-options.js';
import { NodeStoppedError, TimeoutError } from './errors.js';
import type { NodeContext } from './node-context.js';
import type { AnyStateMachine } from './state-machine.js';
import { Waiter } from './waiter.js';

interface ReadRequest {
  fn: (sm: never) => unknown;
  waiter: Waiter<unknown>;
}

/** Reads that share one ReadIndex request. `index` -1: the read index is not known yet. */
interface ReadBatch {
  reads: ReadRequest[];
  ctx: Uint8Array;
  key: string;
  index: number;
  issuedAtTick: number;
}

/** A waitForApplied() call. */
interface AppliedWaiter {
  index: number;
  waiter: Waiter<void>;
}

export class ReadHandler<SM extends AnyStateMachine> {
  private pending: ReadRequest[] = [];
  private appliedWaiters: AppliedWaiter[] = [];
  private readonly inflight = new Map<string, ReadBatch>();
  private ready: ReadBatch[] = [];
  private readonly ctxPrefix = randomBytes(8);
  private ctxSeq = 0;

  constructor(private readonly ctx: NodeContext<SM>) {}

  /** Queues a read for the next Ready; see RaftNode.read(). */
  read(fn: (sm: never) => unknown, options: CallOptions): Promise<unknown> {
    const ctx = this.ctx;
    if (ctx.stopped) return Promise.reject(ctx.shutdown.stoppedError());
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    const timeoutMs = options.timeoutMs ?? ctx.opts.readTimeoutMs;
    const waiter = new Waiter<unknown>(ctx.clock, timeoutMs, options.signal, (w, why) => {
      // A read that gives up simply stays out of its batch's results.
      w.reject(why.kind === 'timeout' ? new TimeoutError('read', why.timeoutMs) : why.reason);
    });
    this.pending.push({ fn, waiter });
    ctx.scheduleReady();
    return waiter.promise;
  }

  /** Resolves once this member applied `index`; see RaftNode.waitForApplied(). */
  waitForApplied(index: number, options: CallOptions): Promise<void> {
    const ctx = this.ctx;
    if (ctx.stopped) return Promise.reject(ctx.shutdown.stoppedError());
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    if (index <= ctx.applying.appliedIndex) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? ctx.opts.readTimeoutMs;
    const waiter = new Waiter<void>(ctx.clock, timeoutMs, options.signal, (w, why) => {
      this.appliedWaiters = this.appliedWaiters.filter((a) => a.waiter !== w);
      w.reject(why.kind === 'timeout' ? new TimeoutError(`waiting for index ${index} to be applied`, why.timeoutMs) : why.reason);
    });
    this.appliedWaiters.push({ index, waiter });
    return waiter.promise;
  }

  /** Issues one ReadIndex request for the reads queued since the last pass. */
  flush(): void {
    if (this.pending.length === 0) return;
    const reads = this.pending.filter((r) => !r.waiter.settled);
    this.pending = [];
    if (reads.length === 0) return;
    this.issue({ reads, ctx: new Uint8Array(0), key: '', index: -1, issuedAtTick: 0 });
  }

  private issue(batch: ReadBatch): void {
    // Unique across nodes and restarts: the leader keys pending requests by context, and a
    // stale answer to an earlier incarnation's request must never match a new one.
    const ctx = new Uint8Array(16);
    ctx.set(this.ctxPrefix, 0);
    new DataView(ctx.buffer).setFloat64(8, ++this.ctxSeq);
    batch.ctx = ctx;
    batch.key = contextKey(ctx);
    batch.issuedAtTick = this.ctx.loop.ticks;
    this.inflight.set(batch.key, batch);
    this.ctx.rawNode.readIndex(ctx);
  }

  onReadState(rs: ReadState): void {
    const key = contextKey(rs.requestCtx);
    const batch = this.inflight.get(key);
    if (batch === undefined) return;
    this.inflight.delete(key);
    batch.index = rs.index;
    this.ready.push(batch);
    this.serve();
  }

  /** Runs the reads whose read index is applied, and releases the waitForApplied() calls. */
  serve(): void {
    const appliedIndex = this.ctx.applying.appliedIndex;
    if (this.appliedWaiters.length > 0) {
      const waiting: AppliedWaiter[] = [];
      for (const a of this.appliedWaiters) {
        if (a.index <= appliedIndex) a.waiter.resolve();
        else waiting.push(a);
      }
      this.appliedWaiters = waiting;
    }
    if (this.ready.length === 0) return;
    const sm = this.ctx.sm;
    const waiting: ReadBatch[] = [];
    for (const batch of this.ready) {
      if (batch.index > appliedIndex) {
        waiting.push(batch);
        continue;
      }
      for (const r of batch.reads) {
        if (r.waiter.settled) continue;
        try {
          const v = (r.fn as (sm: SM) => unknown)(sm);
          if (v instanceof Promise) v.then((x) => r.waiter.resolve(x), (err: unknown) => r.waiter.reject(err));
          else r.waiter.resolve(v);
        } catch (err) {
          r.waiter.reject(err);
        }
      }
    }
    this.ready = waiting;
  }

  /**
   * ReadIndex requests are dropped without an answer when there is no leader or the message is
   * lost: ask again (with a new context) after an election timeout.
   */
  retry(): void {
    const ticks = this.ctx.loop.ticks;
    for (const batch of [...this.inflight.values()]) {
      if (ticks - batch.issuedAtTick < this.ctx.opts.electionTicks) continue;
      this.reissue(batch);
    }
  }

  /** A new leader does not know the requests the old one was confirming: ask it again. */
  reissueAll(): void {
    for (const batch of [...this.inflight.values()]) this.reissue(batch);
  }

  private reissue(batch: ReadBatch): void {
    this.inflight.delete(batch.key);
    batch.reads = batch.reads.filter((r) => !r.waiter.settled);
    if (batch.reads.length > 0) this.issue(batch);
  }

  /** The node stopped: no read runs any more. */
  rejectAll(stoppedError: () => NodeStoppedError): void {
    for (const r of this.pending) r.waiter.reject(stoppedError());
    for (const b of [...this.inflight.values(), ...this.ready]) for (const r of b.reads) r.waiter.reject(stoppedError());
    this.pending = [];
    this.inflight.clear();
    this.ready = [];
    for (const a of this.appliedWaiters) a.waiter.reject(stoppedError());
    this.appliedWaiters = [];
  }
}
