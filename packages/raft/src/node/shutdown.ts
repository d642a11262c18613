/**
 * Stopping: on request (stop()) or after an error the node cannot recover from. Everything
 * waiting is settled (what is in the log with ProposalOutcomeUnknownError, since it may still
 * commit elsewhere), the writes and applies in flight finish so that the store holds whole
 * writes only, then the transport and the store are closed unless they are not the node's.
 */
import { NodeStoppedError } from './errors.js';
import type { NodeContext } from './node-context.js';
import type { StateMachine } from './state-machine.js';

export class ShutdownHandler<SM extends StateMachine> {
  /** Settles once the node stopped; set by the first stop() or failure. */
  stopPromise: Promise<void> | undefined;

  constructor(private readonly ctx: NodeContext<SM>) {}

  /** Stops the node (idempotent). */
  stop(): Promise<void> {
    this.stopPromise ??= this.shutdown(undefined);
    return this.stopPromise;
  }

  /** Something the node cannot recover from: report it and stop. */
  fail(err: unknown): void {
    const ctx = this.ctx;
    const error = err instanceof Error ? err : new Error(String(err));
    if (ctx.stopped) {
      ctx.logger.error(`raft node ${ctx.id}: error while stopping: ${error.message}`);
      return;
    }
    ctx.logger.error(`raft node ${ctx.id}: stopping after an unrecoverable error: ${error.message}`);
    ctx.notify('error', error);
    this.stopPromise ??= this.shutdown(error);
  }

  private async shutdown(cause: Error | undefined): Promise<void> {
    const ctx = this.ctx;
    ctx.stopped = true;
    ctx.loop.stopTimers();
    const stoppedError = (): NodeStoppedError =>
      new NodeStoppedError('the raft node stopped', cause === undefined ? undefined : { cause });
    ctx.proposals.rejectAll(cause, stoppedError);
    ctx.reads.rejectAll(stoppedError);
    ctx.roles.rejectAll(stoppedError);
    ctx.membership.rejectAll(stoppedError);

    // Whole writes only: the writes already issued finish before the store is closed.
    await ctx.logWrites.queue.idle();
    await ctx.applying.queue.idle();
    if (ctx.snapshots.work !== undefined) await ctx.snapshots.work;
    try {
      if (ctx.opts.closeTransportOnStop) await ctx.transport.close();
    } catch (err) {
      ctx.logger.error(`raft node ${ctx.id}: closing the transport failed: ${String(err)}`);
    }
    try {
      if (ctx.opts.closeLogStoreOnStop) await ctx.logStore.close();
    } catch (err) {
      ctx.logger.error(`raft node ${ctx.id}: closing the log store failed: ${String(err)}`);
    }
  }
}
