/**
 * Persisting what the core hands out in MsgStorageAppend: the writes are issued in Ready order
 * (so a store can pipeline them) and their completions are handled in that same order. A
 * follower's append and vote acknowledgements ride on the append as its responses, so they
 * leave only once LogStore.append() resolved; the leader's own appends to followers do not
 * wait (it replicates while its own write is in flight).
 */
import type { LogWrite } from '../log-store.js';
import { isEmptySnap } from '../types.js';
import type { Message } from '../types.js';
import type { NodeContext } from './node-context.js';
import { SerialQueue } from './serial-queue.js';
import type { AnyStateMachine } from './state-machine.js';

export class LogWriteHandler<SM extends AnyStateMachine> {
  /**
   * The highest commit index known to be on stable storage. A snapshot is taken only at or
   * below it: the store may make a snapshot durable before an earlier hard-state write
   * completes, and a restart from a snapshot above the stored commit index is impossible
   * (Raft's applied <= committed).
   */
  durableCommit: number;
  /** Completions of the writes, in issue order. */
  readonly queue: SerialQueue;
  /**
   * Term and vote of the last hard state handed to the store: a write that changes neither, and
   * carries no entries and no snapshot, only moves the commit index, which Raft may lose in a
   * crash, so it goes to the store with `sync: false`.
   */
  private writtenTerm: number;
  private writtenVote: number;

  constructor(
    private readonly ctx: NodeContext<SM>,
    stored: { term: number; vote: number; durableCommit: number },
  ) {
    this.writtenTerm = stored.term;
    this.writtenVote = stored.vote;
    this.durableCommit = stored.durableCommit;
    this.queue = new SerialQueue((err) => ctx.fail(err));
  }

  /**
   * Issues the write of a MsgStorageAppend now, and queues its completion behind the earlier
   * ones: its responses (the acknowledgements of what it persists) are delivered only once it
   * and every earlier write are durable.
   */
  persist(m: Message): void {
    const hasHardState = m.term !== 0 || m.vote !== 0 || m.commit !== 0;
    const hasSnapshot = !isEmptySnap(m.snapshot);
    let durable: Promise<void> | undefined;
    if (hasHardState || m.entries.length > 0 || hasSnapshot) {
      const termOrVote = hasHardState && (m.term !== this.writtenTerm || m.vote !== this.writtenVote);
      const write: LogWrite = {
        hardState: hasHardState ? { term: m.term, vote: m.vote, commit: m.commit } : undefined,
        entries: m.entries,
        snapshot: hasSnapshot ? m.snapshot : undefined,
        sync: m.entries.length > 0 || hasSnapshot || termOrVote,
      };
      if (hasHardState) {
        this.writtenTerm = m.term;
        this.writtenVote = m.vote;
      }
      try {
        durable = this.ctx.logStore.append(write);
      } catch (err) {
        durable = Promise.reject(err);
      }
      const metrics = this.ctx.metrics;
      if (metrics !== undefined && write.sync) {
        const start = this.ctx.clock.now();
        durable.then(() => metrics.logSynced(this.ctx.secondsSince(start)), () => {});
      }
      // Handled in order by the queue below; this keeps an early failure from being reported
      // as unhandled while earlier writes are still pending.
      durable.catch(() => {});
    }
    this.queue.push(() => (durable === undefined ? this.appended(m) : durable.then(() => this.appended(m))));
  }

  private appended(m: Message): void {
    const ctx = this.ctx;
    if (ctx.stopped) return;
    const snap = m.snapshot;
    const durableCommit = Math.max(m.commit, snap === undefined ? 0 : snap.metadata.index);
    if (durableCommit > this.durableCommit) {
      this.durableCommit = durableCommit;
      ctx.snapshots.maybeSnapshot();
    }
    if (snap !== undefined && !isEmptySnap(snap)) {
      // Entries after the snapshot are handed out only once the response below is stepped, so
      // they queue behind this restore; entries before it are already queued ahead of it.
      ctx.applying.queue.push(() => ctx.snapshots.restoreStateMachine(snap, true));
    }
    ctx.loop.deliver(m.responses);
    ctx.scheduleReady();
  }
}
