/**
 * RaftNode's options: what a caller passes, the defaults, and the checks that refuse an
 * unworkable set with a ConfigError before anything starts.
 */
import { ConfigError } from '../errors.js';
import type { LogStore } from '../log-store.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { Rand } from '../rand.js';
import type { Transport } from '../transport.js';
import { LocalAppendThread, LocalApplyThread } from '../local-threads.js';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import type { RaftMetrics } from './metrics.js';
import type { AnyStateMachine } from './state-machine.js';

/** A cluster member: its id and the address its transport reaches it at. */
export interface Member {
  id: number;
  address: string;
}

/** When the node snapshots its state machine and compacts its log. */
export interface SnapshotPolicy {
  /** Snapshot once this many entries were applied since the last snapshot. Default 10 000. */
  everyEntries?: number | undefined;
  /** Snapshot once this many bytes of entries were applied since the last snapshot. Default Infinity. */
  everyBytes?: number | undefined;
  /**
   * Entries kept in the log behind a snapshot, so that a follower slightly behind catches up
   * from the log rather than with a whole snapshot. Default 5 000.
   */
  keepEntries?: number | undefined;
}

/** Everything a RaftNode is built from. */
export interface RaftNodeOptions<SM extends AnyStateMachine = AnyStateMachine> {
  /** This node's id: a positive safe integer, unique in the cluster, never reused. */
  id: number;
  /** Durable storage for the log, hard state and snapshots. */
  logStore: LogStore;
  /** How messages reach the other nodes. */
  transport: Transport;
  /** The replicated state machine. */
  stateMachine: SM;
  /**
   * The members of a new cluster (this node among them). Used only when `logStore` is empty
   * and `join` is not set: the node bootstraps the cluster with them. Every member of a new
   * cluster must be given the same list. Otherwise (a restart, or `join`), the addresses seed
   * the transport until the log's membership is applied.
   */
  initialMembers?: readonly Member[] | undefined;
  /**
   * Start empty and wait to be added to an existing cluster (through addVoter/addLearner on its
   * leader) instead of bootstrapping a new one. Ignored when `logStore` holds state.
   */
  join?: boolean | undefined;
  /** Milliseconds per tick. Default 100. */
  tickMs?: number | undefined;
  /** Ticks without a leader before a follower campaigns (randomized up to twice). Default 10. */
  electionTicks?: number | undefined;
  /** Ticks between a leader's heartbeats. Default 1. */
  heartbeatTicks?: number | undefined;
  /** The PreVote phase (Raft thesis §9.6): a partitioned node does not disrupt the cluster. Default true. */
  preVote?: boolean | undefined;
  /** A leader steps down when it has not heard from a quorum for an election timeout. Default true. */
  checkQuorum?: boolean | undefined;
  /**
   * Serve linearizable reads from the leader's lease instead of a heartbeat round (Raft thesis
   * §6.4.1): after a quorum acknowledged a heartbeat round, the followers refuse other candidates
   * for an election timeout, and until then the leader answers reads at once. Requires
   * checkQuorum. Default false.
   *
   * The lease rests on a heartbeat round a quorum acknowledged, and holds while both hold:
   * - fewer than electionTicks - 1 of the leader's ticks have passed since the round was sent;
   * - less than (electionTicks - 1) * tickMs * (1 - leaseDriftMargin) ms have passed since it
   *   was sent, on the clock's monotonic now() (performance.now() by default), which keeps
   *   counting while the process is stopped;
   * and it never rests on a round sent before a pause of the process (its tick timer late by
   * more than a tick): after one, the leader hears from a quorum again before it serves from
   * the lease. Outside the lease, a heartbeat round is sent at once and the read waits until a
   * quorum acknowledged a round that may back the lease (after a pause, one sent since: ReadIndex).
   *
   * What it assumes: every node runs with the same tickMs and electionTicks, and every node's
   * clock and timers run at the same rate within the drift margin (a leader's clock slow by d
   * and a follower's fast by d are safe while (1 - d) / (1 + d) >= 1 - leaseDriftMargin, about
   * d <= 5% with the default). It does not assume bounded pauses: a process stopped for any
   * time (garbage collection, SIGSTOP) serves no stale read when it resumes. A clock that stops
   * while the process is stopped breaks it: a frozen VM whose monotonic clock does not count
   * the freeze, a host suspended to disk. Nor does it survive a follower that restarts within
   * the lease and votes at once (as in etcd; see leader-lease.ts).
   */
  leaseBasedReads?: boolean | undefined;
  /**
   * The share of the lease given up to clock drift and timer error (see leaseBasedReads), in
   * [0, 1). Default 0.1.
   */
  leaseDriftMargin?: number | undefined;
  /** When to snapshot and compact; `false` disables snapshots. */
  snapshot?: SnapshotPolicy | false | undefined;
  /**
   * Refuse proposals on followers (NotLeaderError, naming the leader) instead of forwarding them
   * to the leader, as etcd's DisableProposalForwarding. Default false: propose() works on every
   * member.
   */
  disableProposalForwarding?: boolean | undefined;
  /** The largest command propose() accepts, in bytes. Default 1 MiB. */
  maxCommandBytes?: number | undefined;
  /** The most commands batched into one log append per turn of the event loop. Default 4096. */
  maxBatchEntries?: number | undefined;
  /** The most bytes of commands batched into one log append. Default 4 MiB. */
  maxBatchBytes?: number | undefined;
  /** The most bytes of entries in one append message to a follower. Default 1 MiB. */
  maxSizePerMsg?: number | undefined;
  /** The most append messages in flight to one follower. Default 256. */
  maxInflightMsgs?: number | undefined;
  /** The most bytes of uncommitted entries on the leader; proposals beyond are dropped. Default Infinity. */
  maxUncommittedEntriesSize?: number | undefined;
  /** The most bytes of committed entries handed to the state machine per batch. Default 4 MiB. */
  maxApplyBatchBytes?: number | undefined;
  /**
   * How long propose() and membership changes wait for the outcome when the call gives no
   * `timeoutMs`. Infinity: forever. Default 10 000.
   */
  proposalTimeoutMs?: number | undefined;
  /** How long read() waits when the call gives no `timeoutMs`. Default 10 000. */
  readTimeoutMs?: number | undefined;
  /** Close `logStore` in stop(). Default true (the node owns it). */
  closeLogStoreOnStop?: boolean | undefined;
  /** Close `transport` in stop(). Default true (the node owns it). */
  closeTransportOnStop?: boolean | undefined;
  /** Where the node logs (console and pino fit). Default: silent. */
  logger?: Logger | undefined;
  /** Where the node reports metrics (see `@pontoon/raft/prometheus`). Default: none. */
  metrics?: RaftMetrics | undefined;
  /** Timers; inject a virtual clock to simulate. Default: Node's timers. */
  clock?: Clock | undefined;
  /** Randomness for election timeouts. Default: seeded with the id. */
  rand?: Rand | undefined;
}

/** The options with every default filled in. */
export interface ResolvedNodeOptions {
  id: number;
  initialMembers: readonly Member[];
  join: boolean;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  leaseBasedReads: boolean;
  leaseDriftMargin: number;
  snapshot: Required<SnapshotPolicy> | false;
  disableProposalForwarding: boolean;
  maxCommandBytes: number;
  maxBatchEntries: number;
  maxBatchBytes: number;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  maxUncommittedEntriesSize: number;
  maxApplyBatchBytes: number;
  proposalTimeoutMs: number;
  readTimeoutMs: number;
  closeLogStoreOnStop: boolean;
  closeTransportOnStop: boolean;
  logger: Logger;
  metrics: RaftMetrics | undefined;
  clock: Clock;
  rand: Rand | undefined;
}

function positiveInt(field: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(field, `must be a positive integer, got ${String(n)}`);
  return n;
}

function positiveCount(field: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!(Number.isSafeInteger(n) || n === Infinity) || n <= 0) {
    throw new ConfigError(field, `must be a positive integer or Infinity, got ${String(n)}`);
  }
  return n;
}

function positiveMs(field: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (typeof n !== 'number' || Number.isNaN(n) || n <= 0) throw new ConfigError(field, `must be > 0 ms, got ${String(n)}`);
  return n;
}

function hasMethods(v: unknown, names: readonly string[]): boolean {
  return typeof v === 'object' && v !== null && names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function');
}

/** Checks the options and fills in defaults. Throws ConfigError naming the first bad field. */
export function resolveNodeOptions(o: RaftNodeOptions): ResolvedNodeOptions {
  if (typeof o !== 'object' || o === null) throw new ConfigError('options', 'must be an object');
  if (!Number.isSafeInteger(o.id) || o.id <= 0 || o.id === LocalAppendThread || o.id === LocalApplyThread) {
    throw new ConfigError('id', `must be a positive safe integer (below the reserved ids), got ${String(o.id)}`);
  }
  if (!hasMethods(o.logStore, ['append', 'createSnapshot', 'compact', 'close', 'initialState', 'entries', 'term', 'firstIndex', 'lastIndex', 'snapshot'])) {
    throw new ConfigError('logStore', 'must implement LogStore');
  }
  if (!hasMethods(o.transport, ['send', 'onMessage', 'onUnreachable', 'onSnapshotStatus', 'addPeer', 'removePeer', 'close'])) {
    throw new ConfigError('transport', 'must implement Transport');
  }
  if (
    !hasMethods(o.stateMachine, ['apply', 'snapshot', 'restore']) &&
    !hasMethods(o.stateMachine, ['position', 'applyBatch', 'openSnapshot', 'receiveSnapshot', 'installSnapshot'])
  ) {
    throw new ConfigError(
      'stateMachine',
      'must have apply, snapshot and restore (StateMachine), or position, applyBatch, openSnapshot, receiveSnapshot and installSnapshot (OnDiskStateMachine)',
    );
  }
  const initialMembers = o.initialMembers ?? [];
  if (!Array.isArray(initialMembers)) throw new ConfigError('initialMembers', 'must be an array');
  const seen = new Set<number>();
  for (const m of initialMembers) {
    if (typeof m !== 'object' || m === null || !Number.isSafeInteger(m.id) || m.id <= 0 || m.id === LocalAppendThread || m.id === LocalApplyThread) {
      throw new ConfigError('initialMembers', `member ids must be positive safe integers, got ${JSON.stringify(m)}`);
    }
    if (typeof m.address !== 'string') throw new ConfigError('initialMembers', `member ${m.id} needs a string address`);
    if (seen.has(m.id)) throw new ConfigError('initialMembers', `member ${m.id} is listed twice`);
    seen.add(m.id);
  }
  const join = o.join ?? false;
  const tickMs = positiveMs('tickMs', o.tickMs, 100);
  if (tickMs === Infinity) throw new ConfigError('tickMs', 'must be finite');
  const heartbeatTicks = positiveInt('heartbeatTicks', o.heartbeatTicks, 1);
  const electionTicks = positiveInt('electionTicks', o.electionTicks, 10);
  if (electionTicks <= heartbeatTicks) {
    throw new ConfigError('electionTicks', `must be greater than heartbeatTicks (${heartbeatTicks}), got ${electionTicks}`);
  }
  const checkQuorum = o.checkQuorum ?? true;
  const leaseBasedReads = o.leaseBasedReads ?? false;
  if (leaseBasedReads && !checkQuorum) throw new ConfigError('leaseBasedReads', 'requires checkQuorum');
  const leaseDriftMargin = o.leaseDriftMargin ?? 0.1;
  if (typeof leaseDriftMargin !== 'number' || !(leaseDriftMargin >= 0 && leaseDriftMargin < 1)) {
    throw new ConfigError('leaseDriftMargin', `must be a number in [0, 1), got ${String(leaseDriftMargin)}`);
  }
  let snapshot: Required<SnapshotPolicy> | false = false;
  if (o.snapshot !== false) {
    const p = o.snapshot ?? {};
    snapshot = {
      everyEntries: positiveCount('snapshot.everyEntries', p.everyEntries, 10_000),
      everyBytes: positiveCount('snapshot.everyBytes', p.everyBytes, Infinity),
      keepEntries: p.keepEntries ?? 5_000,
    };
    if (!Number.isSafeInteger(snapshot.keepEntries) || snapshot.keepEntries < 0) {
      throw new ConfigError('snapshot.keepEntries', `must be an integer >= 0, got ${String(snapshot.keepEntries)}`);
    }
  }
  const maxSizePerMsg = positiveCount('maxSizePerMsg', o.maxSizePerMsg, 1 << 20);
  return {
    id: o.id,
    initialMembers,
    join,
    tickMs,
    electionTicks,
    heartbeatTicks,
    preVote: o.preVote ?? true,
    checkQuorum,
    leaseBasedReads,
    leaseDriftMargin,
    snapshot,
    disableProposalForwarding: o.disableProposalForwarding ?? false,
    maxCommandBytes: positiveCount('maxCommandBytes', o.maxCommandBytes, 1 << 20),
    maxBatchEntries: positiveInt('maxBatchEntries', o.maxBatchEntries, 4096),
    maxBatchBytes: positiveCount('maxBatchBytes', o.maxBatchBytes, 4 << 20),
    maxSizePerMsg,
    maxInflightMsgs: positiveInt('maxInflightMsgs', o.maxInflightMsgs, 256),
    maxUncommittedEntriesSize: positiveCount('maxUncommittedEntriesSize', o.maxUncommittedEntriesSize, Infinity),
    maxApplyBatchBytes: positiveCount('maxApplyBatchBytes', o.maxApplyBatchBytes, 4 << 20),
    proposalTimeoutMs: positiveMs('proposalTimeoutMs', o.proposalTimeoutMs, 10_000),
    readTimeoutMs: positiveMs('readTimeoutMs', o.readTimeoutMs, 10_000),
    closeLogStoreOnStop: o.closeLogStoreOnStop ?? true,
    closeTransportOnStop: o.closeTransportOnStop ?? true,
    logger: o.logger ?? silentLogger,
    metrics: o.metrics,
    clock: o.clock ?? realClock,
    rand: o.rand,
  };
}
