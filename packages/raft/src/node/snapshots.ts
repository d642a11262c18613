/**
 * Snapshots: taking one by policy or on request (captured on the apply queue at an exact applied
 * index, then written to the store and the log compacted beside further applies), and restoring
 * the state machine from one (the store's latest at startup, or one the leader sent).
 *
 * With an OnDiskStateMachine the store's snapshot is metadata only (index, term, configuration
 * and the address book): the state is the state machine's own and durable, so taking a snapshot
 * costs nothing but the log compaction. The state travels only to a follower that needs it, as a
 * stream: the leader opens a point-in-time view of its state machine and hands it to the
 * transport (sendSnapshot); the follower's transport writes it into the state machine's staging
 * area (receiveSnapshot) and then delivers the MsgSnap; once the core has made the snapshot's
 * metadata durable in the store, the staged copy is installed (installSnapshot). A crash between
 * those last two steps is finished at the next start (installOnOpen).
 */
import { SnapOutOfDateError, StateMachineBehindError } from '../errors.js';
import { cloneConfState } from '../types.js';
import type { ConfState, Message, Snapshot } from '../types.js';
import { decodeSnapshotData, encodeSnapshotData } from './codec.js';
import type { NodeContext } from './node-context.js';
import type { AnyStateMachine, LogPosition, OnDiskStateMachine, SnapshotSink, StateMachine } from './state-machine.js';

const EMPTY = new Uint8Array(0);

/** A snapshot() call waiting for the snapshot that will cover what was applied when it was made. */
interface SnapshotRequest {
  atLeast: number;
  resolve: (taken: LogPosition) => void;
  reject: (err: unknown) => void;
}

export class SnapshotHandler<SM extends AnyStateMachine> {
  /** The index of the latest snapshot this node took or installed (0: none). */
  snapshotIndex = 0;
  /** Bytes of entries applied since that snapshot (the policy's `everyBytes`). */
  bytesSinceSnapshot = 0;
  /** The write of a snapshot to the store and the compaction after it, while running. */
  work: Promise<void> | undefined;
  private snapshotting = false;
  private requests: SnapshotRequest[] = [];
  /** Bytes of the streamed snapshot received for an index (for the snapshotInstalled event). */
  private readonly receivedBytes = new Map<number, number>();

  constructor(private readonly ctx: NodeContext<SM>) {}

  /**
   * Takes a snapshot now, whatever the policy (RaftNode.snapshot()): resolves with its position
   * once it is in the store and the log is compacted behind it, or at once with the latest one
   * if nothing was applied since.
   */
  request(): Promise<LogPosition> {
    const ctx = this.ctx;
    const atLeast = ctx.applying.appliedIndex;
    if (atLeast <= this.snapshotIndex) {
      const snap = ctx.logStore.snapshot();
      return Promise.resolve({ index: snap.metadata.index, term: snap.metadata.term });
    }
    return new Promise((resolve, reject) => {
      this.requests.push({ atLeast, resolve, reject });
      this.maybeSnapshot();
    });
  }

  /** The node stopped: the requests still waiting get `err`. */
  rejectAll(err: unknown): void {
    for (const r of this.requests.splice(0)) r.reject(err);
  }

  private settleRequests(): void {
    if (this.requests.length === 0) return;
    const snap = this.ctx.logStore.snapshot();
    const taken = { index: snap.metadata.index, term: snap.metadata.term };
    this.requests = this.requests.filter((r) => {
      if (r.atLeast > taken.index) return true;
      r.resolve(taken);
      return false;
    });
  }

  maybeSnapshot(): void {
    const ctx = this.ctx;
    const policy = ctx.opts.snapshot;
    const requested = this.requests.length > 0;
    if ((policy === false && !requested) || this.snapshotting || ctx.stopped) return;
    const applying = ctx.applying;
    const due =
      requested ||
      (policy !== false && (applying.appliedIndex - this.snapshotIndex >= policy.everyEntries || this.bytesSinceSnapshot >= policy.everyBytes));
    if (!due) return;
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
      const start = ctx.clock.now();
      const cs = cloneConfState(ctx.membership.confState);
      const addresses = new Map(ctx.membership.addresses);
      const save = (data: Uint8Array): void => {
        this.work = this.saveSnapshot(index, cs, addresses, data, start)
          .catch((err: unknown) => ctx.fail(err))
          .finally(() => {
            this.snapshotting = false;
            this.settleRequests();
            // Requests made while this one was being written want a later index.
            if (this.requests.length > 0) this.maybeSnapshot();
          });
      };
      // An on-disk state machine's state is durable up to appliedIndex once sync() returns (at
      // once when it has none): the store records the metadata only. Called here, on the apply
      // queue, so that it never overlaps a batch.
      if (applying.onDisk) {
        const sm = ctx.sm as OnDiskStateMachine;
        if (sm.sync === undefined) {
          save(EMPTY);
          return;
        }
        return Promise.resolve()
          .then(() => sm.sync!())
          .then(
            () => save(EMPTY),
            (err: unknown) => {
              this.snapshotting = false;
              ctx.fail(err);
            },
          );
      }
      const data = (ctx.sm as StateMachine).snapshot();
      if (data instanceof Promise) return data.then(save);
      save(data);
    });
  }

  private async saveSnapshot(index: number, cs: ConfState, addresses: Map<number, string>, data: Uint8Array, start: number): Promise<void> {
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
    ctx.metrics?.snapshotTaken(framed.length, ctx.secondsSince(start));
  }

  /**
   * Replaces the state machine with a snapshot's: at startup (the store's latest snapshot) or
   * when the leader sent one (`received`). Runs on the apply queue.
   */
  restoreStateMachine(snap: Snapshot, received: boolean): void | Promise<void> {
    const ctx = this.ctx;
    if (ctx.stopped) return;
    const { addresses, data } = decodeSnapshotData(snap.data);
    let receivedBytesForEvent = snap.data.length;
    const start = ctx.clock.now();
    const done = (): void => {
      const index = snap.metadata.index;
      ctx.applying.appliedIndex = index;
      this.snapshotIndex = index;
      this.bytesSinceSnapshot = 0;
      ctx.membership.restore(snap.metadata.confState, addresses);
      // This node skipped the entries up to the snapshot: which proposals won is not known here.
      ctx.proposals.forgetUpTo(index, snap.metadata.term);
      if (received) {
        ctx.notify('snapshotInstalled', { index, term: snap.metadata.term, bytes: receivedBytesForEvent });
        ctx.metrics?.snapshotInstalled(receivedBytesForEvent, ctx.secondsSince(start));
        ctx.notify('membershipChanged', { index, membership: ctx.membership.membership() });
        ctx.membership.noticeRemoval(index);
        ctx.notify('applied', { index });
      }
      ctx.reads.serve();
    };
    if (ctx.applying.onDisk) {
      if (!received) {
        done();
        return;
      }
      const bytes = this.receivedBytes.get(snap.metadata.index);
      this.receivedBytes.clear();
      return (ctx.sm as OnDiskStateMachine).installSnapshot(snap.metadata.index).then((installed) => {
        if (installed.index < snap.metadata.index) {
          throw new StateMachineBehindError(installed.index, snap.metadata.index);
        }
        ctx.applying.smPosition = installed.index;
        if (bytes !== undefined) receivedBytesForEvent = bytes;
        done();
        // The installed state holds the entries up to its own position, which may be past the
        // snapshot's index: proposals there are as unknown as those below it.
        ctx.proposals.forgetUpTo(installed.index, installed.term);
      });
    }
    const r = (ctx.sm as StateMachine).restore(data);
    if (r instanceof Promise) return r.then(done);
    done();
  }

  /**
   * At startup, an on-disk state machine behind the store's snapshot: a crash came after the
   * snapshot's metadata was recorded and before its staged copy was installed. Installs it now,
   * on the apply queue (ahead of any entry).
   */
  installOnOpen(snap: Snapshot, position: LogPosition): Promise<void> {
    const ctx = this.ctx;
    const index = snap.metadata.index;
    ctx.logger.info(`raft node ${ctx.id}: the state machine is at ${position.index}, behind the snapshot at ${index}: installing its staged copy`);
    return (ctx.sm as OnDiskStateMachine).installSnapshot(index).then(
      (installed) => {
        if (installed.index < index) throw new StateMachineBehindError(installed.index, index);
        ctx.applying.smPosition = installed.index;
        ctx.notify('snapshotInstalled', { index, term: snap.metadata.term, bytes: snap.data.length });
      },
      (err: unknown) => {
        throw new StateMachineBehindError(position.index, index, err);
      },
    );
  }

  /**
   * The core wants a MsgSnap sent (leader, on-disk state machine): opens a view of the state
   * machine between two batches, without holding the applies up while it is made, and hands it
   * to the transport. A view that cannot be opened fails this send only; the core retries.
   */
  send(m: Message): void {
    const ctx = this.ctx;
    const cs = m.snapshot!.metadata.confState;
    if (![...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext].includes(m.to)) {
      // The stored snapshot predates the peer's joining, and the peer would refuse it. With the
      // state on disk a new snapshot is only metadata: take one, and the core's retry sends it.
      this.request().catch(() => {});
      ctx.rawNode.reportSnapshot(m.to, 'failed');
      return;
    }
    ctx.applying.queue.push(() => {
      if (ctx.stopped) return;
      (ctx.sm as OnDiskStateMachine).openSnapshot().then(
        (source) => {
          if (ctx.stopped) {
            void source.close().catch(() => {});
            return;
          }
          ctx.logger.info(`raft node ${ctx.id}: streaming a snapshot (${source.bytes} bytes, at ${source.position.index}) to ${m.to}`);
          ctx.transport.sendSnapshot!(m, source);
        },
        (err: unknown) => {
          if (ctx.stopped) return;
          ctx.logger.warn(`raft node ${ctx.id}: could not open a snapshot for ${m.to}: ${String(err)}`);
          ctx.rawNode.reportSnapshot(m.to, 'failed');
          ctx.scheduleReady();
        },
      );
    });
  }

  /** The transport's onSnapshotStream handler: a streamed snapshot's bytes go to the state machine's staging area. */
  async receive(m: Message): Promise<SnapshotSink> {
    const ctx = this.ctx;
    if (ctx.stopped) throw new Error(`raft node ${ctx.id} is stopped`);
    const md = m.snapshot!.metadata;
    const sink = await (ctx.sm as OnDiskStateMachine).receiveSnapshot({ index: md.index, term: md.term });
    let bytes = 0;
    return {
      write: (chunk) => {
        bytes += chunk.length;
        return sink.write(chunk);
      },
      finish: async () => {
        await sink.finish();
        this.receivedBytes.set(md.index, bytes);
      },
      abort: () => sink.abort(),
    };
  }
}
