/**
 * Applying committed entries to the state machine, one MsgStorageApply after another and in
 * log order within each; then settling the proposals at those indexes, serving the reads that
 * waited for them, and stepping the apply's responses so that the core hands out more.
 *
 * The state machine's calls never overlap: apply(), snapshot() and restore() all run on this
 * handler's queue.
 */
import { ConfChangeError } from '../errors.js';
import { EntryType } from '../types.js';
import type { Entry, Message } from '../types.js';
import type { NodeContext } from './node-context.js';
import { SerialQueue } from './serial-queue.js';
import type { StateMachine } from './state-machine.js';

export class ApplyHandler<SM extends StateMachine> {
  /** Applied to the state machine (may trail the core's applied while a batch is running). */
  appliedIndex = 0;
  /** The state machine's work, in order: applies, snapshot captures, restores. */
  readonly queue: SerialQueue;

  constructor(private readonly ctx: NodeContext<SM>) {
    this.queue = new SerialQueue((err) => ctx.fail(err));
  }

  /** Queues a MsgStorageApply's entries behind the state machine's earlier work. */
  enqueue(m: Message): void {
    this.queue.push(() => this.applyEntries(m));
  }

  /** Applies a MsgStorageApply's entries in order, then steps its responses. */
  private applyEntries(m: Message): void | Promise<void> {
    const ctx = this.ctx;
    if (ctx.stopped) return;
    const ents = m.entries;
    let i = 0;
    const run = (): void | Promise<void> => {
      for (; i < ents.length; i++) {
        if (ctx.stopped) return;
        const e = ents[i]!;
        // Covered by a snapshot installed in the meantime.
        if (e.index <= this.appliedIndex) continue;
        if (e.type !== EntryType.EntryNormal) {
          this.applyConfChangeEntry(e);
          continue;
        }
        if (e.data.length === 0) {
          // A new leader's empty entry: nothing to apply, but it may sit at a proposal's index.
          ctx.proposals.settle(e, undefined);
          this.appliedIndex = e.index;
          continue;
        }
        const result = ctx.sm.apply(e);
        if (result instanceof Promise) {
          return result.then((value) => {
            this.afterApply(e, value);
            i++;
            return run();
          });
        }
        this.afterApply(e, result);
      }
      this.finishApply(m);
    };
    return run();
  }

  private afterApply(e: Entry, result: unknown): void {
    this.appliedIndex = e.index;
    this.ctx.snapshots.bytesSinceSnapshot += e.data.length;
    this.ctx.proposals.settle(e, result);
  }

  private finishApply(m: Message): void {
    const ctx = this.ctx;
    ctx.loop.deliver(m.responses);
    ctx.notify('applied', { index: this.appliedIndex });
    ctx.reads.serve();
    ctx.snapshots.maybeSnapshot();
    ctx.scheduleReady();
  }

  private applyConfChangeEntry(e: Entry): void {
    const ctx = this.ctx;
    const outcome = ctx.membership.applyEntry(e);
    this.appliedIndex = e.index;
    ctx.proposals.settle(e, outcome);
    if (!(outcome instanceof ConfChangeError)) ctx.membership.announce(e.index);
  }
}
