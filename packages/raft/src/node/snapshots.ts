/**
 * Snapshots: taking one by policy (captured on the apply queue at an exact applied index, then
 * written to the store and the log compacted beside further applies), and restoring the state
 * machine from one (the store's latest at startup, or one the leader sent).
 */
import { SnapOutOfDateError } from '../errors.js';
import { cloneConfState } from '../types.js';
import type { ConfState, Snapshot } from '../types.js';
import { decodeSnapshotData, encodeSnapshotData } from './codec.js';
import type { NodeContext } from './node-context.js';
import type { StateMachine } from './state-machine.js';

export class SnapshotHandler<SM extends StateMachine> {
  /** The index of the latest snapshot this node took or installed (0: none). */
  snapshotIndex = 0;
  /** Bytes of entries applied since that snapshot (the policy's `everyBytes`). */
  bytesSinceSnapshot = 0;
  /** The write of a snapshot to the store and the compaction after it, while running. */
  work: Promise<void> | undefined;
  private snapshotting = false;

  constructor(private readonly ctx: NodeContext<SM>) {}

  maybeSnapshot(): void {
    const ctx = this.ctx;
    const policy = ctx.opts.snapshot;
    if (policy === false || this.snapshotting || ctx.stopped) return;
    const applying = ctx.applying;
    if (applying.appliedIndex - this.snapshotIndex < policy.everyEntries && this.bytesSinceSnapshot < policy.everyBytes) return;
    // Retried from the log writer once the commit index of what was applied is durable.
    if (applying.appliedIndex > ctx.logWrites.durableCommit) return;
    this.snapshotting = true;
    // On the apply queue: the state machine is captured exactly at appliedIndex, before the
    // next batch. Writing it to the store and compacting then run beside further applies.
    applying.queue.push(() => {
      if (ctx.stopped || applying.appliedIndex <= this.snapshotIndex || applying.appliedIndex > ctx.logWrites.durableCommit) {
        this.snapshotting = false;
        return;
      }
      const index = applying.appliedIndex;
      const cs = cloneConfState(ctx.membership.confState);
      const addresses = new Map(ctx.membership.addresses);
      const save = (data: Uint8Array): void => {
        this.work = this.saveSnapshot(index, cs, addresses, data)
          .catch((err: unknown) => ctx.fail(err))
          .finally(() => {
            this.snapshotting = false;
          });
      };
      const data = ctx.sm.snapshot();
      if (data instanceof Promise) return data.then(save);
      save(data);
    });
  }

  private async saveSnapshot(index: number, cs: ConfState, addresses: Map<number, string>, data: Uint8Array): Promise<void> {
    const ctx = this.ctx;
    const framed = encodeSnapshotData(addresses, data);
    let snap: Snapshot;
    try {
      snap = await ctx.logStore.createSnapshot(index, cs, framed);
    } catch (err) {
      // A newer snapshot from the leader was installed meanwhile: this one is obsolete.
      if (err instanceof SnapOutOfDateError) return;
      throw err;
    }
    if (index > this.snapshotIndex) {
      this.snapshotIndex = index;
      this.bytesSinceSnapshot = 0;
    }
    const policy = ctx.opts.snapshot;
    // As MemoryStorage.compact: compact(i) drops the entries up to i (keeping i's term), so the
    // log then starts at i + 1, `keepEntries` behind the snapshot.
    const compactTo = policy === false ? 0 : index - policy.keepEntries;
    if (compactTo >= ctx.logStore.firstIndex()) await ctx.logStore.compact(compactTo);
    ctx.notify('snapshotTaken', { index, term: snap.metadata.term, bytes: framed.length });
  }

  /**
   * Replaces the state machine with a snapshot's: at startup (the store's latest snapshot) or
   * when the leader sent one (`received`). Runs on the apply queue.
   */
  restoreStateMachine(snap: Snapshot, received: boolean): void | Promise<void> {
    const ctx = this.ctx;
    if (ctx.stopped) return;
    const { addresses, data } = decodeSnapshotData(snap.data);
    const done = (): void => {
      const index = snap.metadata.index;
      ctx.applying.appliedIndex = index;
      this.snapshotIndex = index;
      this.bytesSinceSnapshot = 0;
      ctx.membership.restore(snap.metadata.confState, addresses);
      // This node skipped the entries up to the snapshot: which proposals won is not known here.
      ctx.proposals.forgetUpTo(index);
      if (received) {
        ctx.notify('snapshotInstalled', { index, term: snap.metadata.term, bytes: snap.data.length });
        ctx.notify('membershipChanged', { index, membership: ctx.membership.membership() });
        ctx.membership.noticeRemoval(index);
        ctx.notify('applied', { index });
      }
      ctx.reads.serve();
    };
    const r = ctx.sm.restore(data);
    if (r instanceof Promise) return r.then(done);
    done();
  }
}
