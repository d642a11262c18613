/**
 * Stopping: on request (stop()) or after an error the node cannot recover from. Everything
 * waiting is settled (what is in the log with ProposalOutcomeUnknownError, since it may still
 * commit elsewhere), the writes and applies in flight finish so that the store holds whole
 * writes only, then the transport and the store are closed unless they are not the node's.
 */
import { NodeFailedError, NodeStoppedError } from '../errors.js';
import type { NodeContext } from './node-context.js';
import type { AnyStateMachine } from './state-machine.js';

export class ShutdownHandler<SM extends AnyStateMachine> {
  /** The error that stopped the node, if one did. */
  failure: Error | undefined;
  /** Settles once the node stopped; set by the first stop() or failure. */
  private stopPromise: Promise<void> | undefined;

  constructor(private readonly ctx: NodeContext<SM>) {}

  /** Stops the node (idempotent); rejects with NodeFailedError if an error had stopped it. */
  stop(): Promise<void> {
    this.stopPromise ??= this.shutdown(undefined);
    return this.stopPromise.then(() => {
      if (this.failure !== undefined) throw new NodeFailedError(this.failure);
    });
  }

  /** What a call made (or pending) once the node is stopped rejects with. */
  stoppedError(): NodeStoppedError {
    const cause = this.failure;
    if (cause === undefined) return new NodeStoppedError();
    return new NodeStoppedError(`the raft node stopped after an unrecoverable error: ${cause.message}`, { cause });
  }

  /** Something the node cannot recover from: report it and stop. */
  fail(err: unknown): void {
    const ctx = this.ctx;
    const error = err instanceof Error ? err : new Error(String(err));
    if (ctx.stopped) {
      ctx.logger.error(`raft node ${ctx.id}: error while stopping: ${error.message}`);
      return;
    }
    this.failure = error;
    // The logger and the event, and (with the cause) every pending call, stop() and status():
    // a failure must surface even when nobody listens for `error`.
    ctx.logger.error(`raft node ${ctx.id}: stopping after an unrecoverable error: ${error.message}`, error);
    ctx.notify('error', error);
    this.stopPromise ??= this.shutdown(error);
  }

  private async shutdown(cause: Error | undefined): Promise<void> {
    const ctx = this.ctx;
    ctx.stopped = true;
    ctx.loop.stopTimers();
    const stoppedError = (): NodeStoppedError =>
      cause === undefined ? new NodeStoppedError('the raft node stopped') : this.stoppedError();
    ctx.proposals.rejectAll(cause, stoppedError);
    ctx.reads.rejectAll(stoppedError);
    ctx.roles.rejectAll(stoppedError);
    ctx.membership.rejectAll(stoppedError);
    ctx.snapshots.rejectAll(stoppedError());

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
