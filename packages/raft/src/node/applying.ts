/**
 * Applying committed entries to the state machine, one MsgStorageApply after another and in
 * log order within each; then settling the proposals at those indexes, serving the reads that
 * waited for them, and stepping the apply's responses so that the core hands out more.
 *
 * The state machine's calls never overlap: apply(), snapshot() and restore() (or, for an
 * OnDiskStateMachine, applyBatch() and installSnapshot()) all run on this handler's queue.
 *
 * An OnDiskStateMachine gets each MsgStorageApply's entries in one applyBatch() call, the
 * entries without a command included (so that the position it records advances over them), and
 * never an entry at or below its position: after a restart, or after installing a snapshot
 * whose sender had applied past the snapshot's index, the core hands out entries the state
 * machine already holds. The membership changes among them are still applied here, since the
 * configuration is RaftNode's, not the state machine's.
 */
import { ConfChangeError, invariant } from '../errors.js';
import { EntryType } from '../types.js';
import type { Entry, Message } from '../types.js';
import { ENVELOPE_MARK, decodeCommand, withCommand } from './command-envelope.js';
import type { ForwardTag } from './command-envelope.js';
import type { NodeContext } from './node-context.js';
import { SerialQueue } from './serial-queue.js';
import { isOnDiskStateMachine } from './state-machine.js';
import type { AnyStateMachine, OnDiskStateMachine, StateMachine } from './state-machine.js';

const EMPTY = new Uint8Array(0);

export class ApplyHandler<SM extends AnyStateMachine> {
  /** Applied to the state machine (may trail the core's applied while a batch is running). */
  appliedIndex = 0;
  /**
   * An OnDiskStateMachine's position: the last index whose effects it holds (it may be ahead of
   * appliedIndex, never behind it). Unused for an in-memory state machine.
   */
  smPosition = 0;
  /** The state machine's work, in order: applies, snapshot captures, restores. */
  readonly queue: SerialQueue;
  /** Whether the state machine follows the on-disk contract. */
  readonly onDisk: boolean;

  constructor(private readonly ctx: NodeContext<SM>) {
    this.queue = new SerialQueue((err) => ctx.fail(err));
    this.onDisk = isOnDiskStateMachine(ctx.sm);
  }

  /** Queues a MsgStorageApply's entries behind the state machine's earlier work. */
  enqueue(m: Message): void {
    this.queue.push(() => (this.onDisk ? this.applyBatch(m) : this.applyEntries(m)));
  }

  /** Hands a MsgStorageApply's entries to an OnDiskStateMachine in one call, then settles them. */
  private applyBatch(m: Message): void | Promise<void> {
    const ctx = this.ctx;
    if (ctx.stopped) return;
    const sm = ctx.sm as OnDiskStateMachine;
    const start = ctx.metrics === undefined ? 0 : ctx.clock.now();
    // Entries covered by a snapshot installed in the meantime are skipped altogether.
    const ents = m.entries.filter((e) => e.index > this.appliedIndex);
    const held = this.smPosition;
    // What the state machine gets: forwarded commands unwrapped, and commands that apply nowhere
    // (malformed, or forwarded to a leader of another term) as empty entries, which it skips
    // but records its position over.
    const tags: Array<ForwardTag | undefined> = [];
    const skipped = new Set<number>();
    const fresh: Entry[] = [];
    for (const e of ents) {
      if (e.index <= held) continue;
      const c = e.type === EntryType.EntryNormal && e.data[0] === ENVELOPE_MARK ? decodeCommand(e.data) : undefined;
      if (c !== undefined && (c.kind === 'malformed' || (c.kind === 'forwarded' && c.tag.term !== e.term))) {
        if (c.kind === 'malformed') ctx.logger.warn(`raft node ${ctx.id}: skipped the entry at index ${e.index}: ${c.reason}`);
        skipped.add(e.index);
        fresh.push({ ...e, data: EMPTY });
        tags.push(undefined);
        continue;
      }
      fresh.push(c === undefined ? e : withCommand(e, c.command));
      tags.push(c?.tag);
    }
    const settle = (results: readonly unknown[]): void => {
      invariant(results.length === fresh.length, () => `applyBatch returned ${results.length} results for ${fresh.length} entries`);
      if (fresh.length > 0) this.smPosition = fresh[fresh.length - 1]!.index;
      let k = 0;
      for (const e of ents) {
        if (ctx.stopped) return;
        const fromSm = e.index > held;
        const result = fromSm ? results[k] : undefined;
        const tag = fromSm ? tags[k] : undefined;
        if (fromSm) k++;
        if (e.type !== EntryType.EntryNormal) {
          this.applyConfChangeEntry(e);
          continue;
        }
        this.appliedIndex = e.index;
        this.ctx.snapshots.bytesSinceSnapshot += e.data.length;
        // An entry the state machine held already came with an installed snapshot, whose
        // proposals were given up on then (or with a restart, which has none).
        if (fromSm) ctx.proposals.settle(e, skipped.has(e.index) ? undefined : result, tag);
      }
      if (ctx.metrics !== undefined) ctx.metrics.entriesApplied(ents.length, ctx.secondsSince(start));
      this.finishApply(m);
    };
    if (fresh.length === 0) {
      settle([]);
      return;
    }
    const results = sm.applyBatch(fresh);
    if (results instanceof Promise) return results.then(settle);
    settle(results);
  }

  /** Applies a MsgStorageApply's entries in order, then steps its responses. */
  private applyEntries(m: Message): void | Promise<void> {
    const ctx = this.ctx;
    if (ctx.stopped) return;
    const sm = ctx.sm as StateMachine;
    const ents = m.entries;
    const start = ctx.metrics === undefined ? 0 : ctx.clock.now();
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
        // A forwarded command is unwrapped; one another leader appended is skipped everywhere.
        const c = e.data[0] === ENVELOPE_MARK ? decodeCommand(e.data) : undefined;
        if (c !== undefined && (c.kind === 'malformed' || (c.kind === 'forwarded' && c.tag.term !== e.term))) {
          if (c.kind === 'malformed') ctx.logger.warn(`raft node ${ctx.id}: skipped the entry at index ${e.index}: ${c.reason}`);
          ctx.proposals.settle(e, undefined);
          this.appliedIndex = e.index;
          continue;
        }
        const tag = c?.tag;
        const result = sm.apply(c === undefined ? e : withCommand(e, c.command));
        if (result instanceof Promise) {
          return result.then((value) => {
            this.afterApply(e, value, tag);
            i++;
            return run();
          });
        }
        this.afterApply(e, result, tag);
      }
      if (ctx.metrics !== undefined) ctx.metrics.entriesApplied(ents.length, ctx.secondsSince(start));
      this.finishApply(m);
    };
    return run();
  }

  private afterApply(e: Entry, result: unknown, tag: ForwardTag | undefined): void {
    this.appliedIndex = e.index;
    this.ctx.snapshots.bytesSinceSnapshot += e.data.length;
    this.ctx.proposals.settle(e, result, tag);
  }

  private finishApply(m: Message): void {
    const ctx = this.ctx;
    ctx.loop.deliver(m.responses);
    ctx.notify('applied', { index: this.appliedIndex });
    ctx.metrics?.indexes(ctx.rawNode.log.committed, this.appliedIndex);
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
