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
  everyEntries?: number;
  /** Snapshot once this many bytes of entries were applied since the last snapshot. Default Infinity. */
  everyBytes?: number;
  /**
   * Entries kept in the log behind a snapshot, so that a follower slightly behind catches up
   * from the log rather than with a whole snapshot. Default 5 000.
   */
  keepEntries?: number;
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
  initialMembers?: readonly Member[];
  /**
   * Start empty and wait to be added to an existing cluster (through addVoter/addLearner on its
   * leader) instead of bootstrapping a new one. Ignored when `logStore` holds state.
   */
  join?: boolean;
  /** Milliseconds per tick. Default 100. */
  tickMs?: number;
  /** Ticks without a leader before a follower campaigns (randomized up to twice). Default 10. */
  electionTicks?: number;
  /** Ticks between a leader's heartbeats. Default 1. */
  heartbeatTicks?: number;
  /** The PreVote phase (Raft thesis §9.6): a partitioned node does not disrupt the cluster. Default true. */
  preVote?: boolean;
  /** A leader steps down when it has not heard from a quorum for an election timeout. Default true. */
  checkQuorum?: boolean;
  /**
   * Serve linearizable reads from the leader's lease instead of a heartbeat round. The lease runs
   * for the election timeout less one tick from the send tick of the newest heartbeat round a
   * quorum acknowledged (followers refuse other candidates that long); outside it a read waits
   * for a round. Faster, but correct only while every node's ticks run at about the same rate:
   * unsafe under clock skew or process pauses of the order of an election timeout (a paused
   * leader does not tick, so its lease does not run out). Requires checkQuorum. Default false.
   */
  leaseBasedReads?: boolean;
  /** When to snapshot and compact; `false` disables snapshots. */
  snapshot?: SnapshotPolicy | false;
  /**
   * Refuse proposals on followers (NotLeaderError, naming the leader) instead of forwarding them
   * to the leader, as etcd's DisableProposalForwarding. Default false: propose() works on every
   * member.
   */
  disableProposalForwarding?: boolean;
  /** The largest command propose() accepts, in bytes. Default 1 MiB. */
  maxCommandBytes?: number;
  /** The most commands batched into one log append per turn of the event loop. Default 4096. */
  maxBatchEntries?: number;
  /** The most bytes of commands batched into one log append. Default 4 MiB. */
  maxBatchBytes?: number;
  /** The most bytes of entries in one append message to a follower. Default 1 MiB. */
  maxSizePerMsg?: number;
  /** The most append messages in flight to one follower. Default 256. */
  maxInflightMsgs?: number;
  /** The most bytes of uncommitted entries on the leader; proposals beyond are dropped. Default Infinity. */
  maxUncommittedEntriesSize?: number;
  /** The most bytes of committed entries handed to the state machine per batch. Default 4 MiB. */
  maxApplyBatchBytes?: number;
  /**
   * How long propose() and membership changes wait for the outcome when the call gives no
   * `timeoutMs`. Infinity: forever. Default 10 000.
   */
  proposalTimeoutMs?: number;
  /** How long read() waits when the call gives no `timeoutMs`. Default 10 000. */
  readTimeoutMs?: number;
  /** Close `logStore` in stop(). Default true (the node owns it). */
  closeLogStoreOnStop?: boolean;
  /** Close `transport` in stop(). Default true (the node owns it). */
  closeTransportOnStop?: boolean;
  /** Where the node logs (console and pino fit). Default: silent. */
  logger?: Logger;
  /** Where the node reports metrics (see `@pontoon/raft/prometheus`). Default: none. */
  metrics?: RaftMetrics;
  /** Timers; inject a virtual clock to simulate. Default: Node's timers. */
  clock?: Clock;
  /** Randomness for election timeouts. Default: seeded with the id. */
  rand?: Rand;
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
