/**
 * What the parts of a RaftNode share: the node's dependencies, whether it is stopped, and the
 * handlers themselves, so that each handler (proposals, reads, applying, ...) reaches the others
 * through one object, as openraft's engine handlers reach the engine's state.
 */
import type { EventEmitter } from 'eventemitter3';
import type { LogStore } from '../log-store.js';
import type { Logger } from '../logger.js';
import type { RawNode } from '../raw-node.js';
import type { Transport } from '../transport.js';
import type { ApplyHandler } from './applying.js';
import type { Clock } from './clock.js';
import type { RaftNodeEvents } from './events.js';
import type { ForwardingHandler } from './forwarding.js';
import type { LogWriteHandler } from './log-writes.js';
import type { MembershipHandler } from './membership.js';
import type { RaftMetrics } from './metrics.js';
import type { PeerContact } from './peer-contact.js';
import type { ResolvedNodeOptions } from './options.js';
import type { ProposalHandler } from './proposals.js';
import type { ReadHandler } from './reads.js';
import type { ReadyLoop } from './ready-loop.js';
import type { RoleHandler } from './role-changes.js';
import type { ShutdownHandler } from './shutdown.js';
import type { SnapshotHandler } from './snapshots.js';
import type { AnyStateMachine } from './state-machine.js';

/** The dependencies a RaftNode is built from, resolved. */
export interface NodeDeps<SM extends AnyStateMachine> {
  opts: ResolvedNodeOptions;
  rawNode: RawNode;
  logStore: LogStore;
  transport: Transport;
  sm: SM;
  /** Where events go: the RaftNode itself. */
  events: EventEmitter<RaftNodeEvents>;
}

export class NodeContext<SM extends AnyStateMachine = AnyStateMachine> {
  readonly id: number;
  readonly opts: ResolvedNodeOptions;
  readonly rawNode: RawNode;
  readonly logStore: LogStore;
  readonly transport: Transport;
  readonly sm: SM;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Set once stop() was called or an unrecoverable error stopped the node. */
  stopped = false;
  /** The metrics hook, guarded so that a throwing one cannot break the node; none: undefined. */
  readonly metrics: RaftMetrics | undefined;

  // The handlers, wired by RaftNode's constructor before anything runs.
  loop!: ReadyLoop<SM>;
  logWrites!: LogWriteHandler<SM>;
  applying!: ApplyHandler<SM>;
  snapshots!: SnapshotHandler<SM>;
  proposals!: ProposalHandler<SM>;
  reads!: ReadHandler<SM>;
  membership!: MembershipHandler<SM>;
  roles!: RoleHandler<SM>;
  shutdown!: ShutdownHandler<SM>;
  peerContact!: PeerContact<SM>;
  forwarding!: ForwardingHandler<SM>;

  private readonly events: EventEmitter<RaftNodeEvents>;

  constructor(deps: NodeDeps<SM>) {
    this.opts = deps.opts;
    this.id = deps.opts.id;
    this.rawNode = deps.rawNode;
    this.logStore = deps.logStore;
    this.transport = deps.transport;
    this.sm = deps.sm;
    this.clock = deps.opts.clock;
    this.logger = deps.opts.logger;
    this.events = deps.events;
    this.metrics = deps.opts.metrics === undefined ? undefined : guarded(deps.opts.metrics, this.logger, this.id);
  }

  /** Seconds since `startMs` (a clock reading), for the metrics. */
  secondsSince(startMs: number): number {
    return (this.clock.now() - startMs) / 1000;
  }

  /** Emits an event; a listener that throws is logged, never allowed to break the node. */
  notify<K extends keyof RaftNodeEvents>(event: K, ...args: RaftNodeEvents[K]): void {
    try {
      (this.events.emit as (e: K, ...a: RaftNodeEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.logger.error(`raft node ${this.id}: a '${String(event)}' listener threw: ${String(err)}`);
    }
  }

  /** Something the node cannot recover from: report it and stop. */
  fail(err: unknown): void {
    this.shutdown.fail(err);
  }

  /** Runs the Ready loop on the next turn of the event loop (once, however often asked). */
  scheduleReady(): void {
    this.loop.schedule();
  }
}

/** `metrics` with every call wrapped: a hook that throws is logged, never propagated. */
function guarded(metrics: RaftMetrics, logger: Logger, id: number): RaftMetrics {
  const wrap =
    <A extends unknown[]>(name: keyof RaftMetrics, fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn.apply(metrics, args);
      } catch (err) {
        logger.warn(`raft node ${id}: the metrics hook ${name} threw: ${String(err)}`);
      }
    };
  return {
    proposalSettled: wrap('proposalSettled', metrics.proposalSettled),
    proposalsPending: wrap('proposalsPending', metrics.proposalsPending),
    entriesApplied: wrap('entriesApplied', metrics.entriesApplied),
    indexes: wrap('indexes', metrics.indexes),
    logSynced: wrap('logSynced', metrics.logSynced),
    leaderChanged: wrap('leaderChanged', metrics.leaderChanged),
    snapshotTaken: wrap('snapshotTaken', metrics.snapshotTaken),
    snapshotInstalled: wrap('snapshotInstalled', metrics.snapshotInstalled),
  };
}
