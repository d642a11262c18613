/**
 * A replicated member of a KV cluster: a RaftNode whose state machine is the MVCC store on disk,
 * with etcd's request paths on top. Writes go through the Raft log from any member (a follower
 * hands them to the leader over the peer link and answers once it applied them itself, so it
 * reads its own writes); linearizable reads go through RaftNode's ReadIndex; serializable reads
 * are served from the local store. Leases expire by the leader's clock only (lessor.ts).
 */
import {
  CommandTooLargeError,
  NodeFailedError,
  NodeStoppedError,
  NotLeaderError,
  ProposalDroppedError,
  ProposalOutcomeUnknownError,
  RaftNode,
  TimeoutError,
  realClock,
} from '@pontoon/raft';
import type { CallOptions, Clock, ClockTimer, LogStore, Member, Membership, MembershipChange, RaftNodeOptions, Transport } from '@pontoon/raft';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { prefixEnd } from './bytes.js';
import { CallDeadline } from './call-deadline.js';
import { type KvCommand, encodeCommand } from './command.js';
import {
  InvalidRequestError,
  LeaseNotFoundError,
  LeaseTtlTooLargeError,
  MemberStoppedError,
  NoLeaderError,
  RequestTimeoutError,
  RequestTooLargeError,
} from './errors.js';
import { KvStateMachine, type KvApplyResult, type KvLogPosition, type KvResponse, type KvSnapshotSource, type KvStateMachineOptions } from './kv-state-machine.js';
import type { ImportedHistory } from './store-import.js';
import { Lessor, NotPrimaryError } from './lessor.js';
import { MemberStateMachine } from './member-state-machine.js';
import { MAX_LEASE_TTL } from './mvcc-store.js';
import { type KvPeerLink, type PeerRequest, type PeerResponse, PeerUnreachableError } from './peer-link.js';
import type {
  ClusterMetaResponse,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  TxnRequest,
  TxnResponse,
} from './types.js';
import { WatchHub, type WatchHubOptions } from './watch-hub.js';
import type { WatchFilters, Watcher } from './watcher.js';
import { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_TXN_OPS, checkDeleteRequest, checkPutRequest, checkRangeRequest, checkRequestSize, checkTxnRequest } from './validate.js';

/** The Raft settings a member passes to its RaftNode (all but what the member provides itself). */
export type KvRaftOptions = Omit<RaftNodeOptions, 'id' | 'logStore' | 'transport' | 'stateMachine' | 'initialMembers' | 'join'>;

export interface KvMemberOptions {
  /** This member's Raft id (positive, unique in the cluster, never reused). */
  id: number;
  /** Where the store lives (`kv.db`) and, unless `logStore` is given, the Raft log (`raft/`). */
  dataDir: string;
  /** How Raft messages reach the other members (TcpTransport, MemoryTransport, ...). */
  transport: Transport;
  /** How this member reaches the leader for keepalives and follower writes. */
  peers: KvPeerLink;
  /** The members of a new cluster (see RaftNodeOptions.initialMembers). */
  initialMembers?: readonly Member[];
  /** Start empty and wait to be added (see RaftNodeOptions.join). */
  join?: boolean;
  /** The Raft log; default: a SqliteLogStore in `dataDir/raft`. The member owns and closes it. */
  logStore?: LogStore;
  /** Raft timing and limits; `clock` is also the lessor's clock. */
  raft?: KvRaftOptions;
  /**
   * The store's options. `minLeaseTtl` defaults to etcd's: ceil(1.5 election timeouts) in seconds.
   * `synchronous` defaults to 'normal' here, as etcd's backend: the Raft log is fsynced before an
   * entry commits, the store's commits are not (a batch lost in a power failure is in the log and
   * is applied again), and the store is synced before the log is compacted behind it. An fsync of
   * the store per batch doubled the fsyncs of a put and, alternating with the log's on one disk,
   * made each of them slower. `batchIntervalMs` defaults to 100 here, etcd's backend batch
   * interval: applied batches commit together at most 100 ms apart (or at 10,000), not one COMMIT
   * each, for the same reason (a crash loses only what the log applies again at the restart).
   */
  store?: KvStateMachineOptions;
  /** How long a request waits when its call gives no `timeoutMs`. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** The watch hub's options. */
  watch?: WatchHubOptions;
  /**
   * The leader's lease expiry timing. Default: etcd's, an expiry check every 500 ms and an
   * expired lease's revoke proposed again after 3 s. A lease is revoked up to one check interval
   * after it expired.
   */
  lessor?: { checkIntervalMs?: number; revokeRetryMs?: number };
}

/** A watch on a key, a range or a prefix. */
export interface WatchOptions extends KeyRangeOptions {
  /** First revision to report (absent or 0: only changes after now). */
  startRevision?: number;
  prevKv?: boolean;
  filters?: WatchFilters;
  /** Periodic progress notifications while idle. */
  progressNotify?: boolean;
  /** Cancels the watch when it aborts. */
  signal?: AbortSignal;
}

/** Options of a read: serializable reads are served locally, without asking the leader. */
export interface ReadOptions extends CallOptions {
  /** Serve from this member's store as it is (may be stale). Default false: linearizable. */
  serializable?: boolean;
}

/** A key given as bytes or as a string (encoded as UTF-8). */
export type KeyInput = Uint8Array | string;

/** Which keys a get or delete covers besides `key` alone. */
export interface KeyRangeOptions {
  /** Every key from `key` up to this one (exclusive); `'\0'` for every key from `key` on. */
  rangeEnd?: KeyInput;
  /** Every key starting with `key`. */
  prefix?: boolean;
}

export type GetOptions = ReadOptions & KeyRangeOptions & Omit<RangeRequest, 'key' | 'rangeEnd'>;
export type PutOptions = CallOptions & Omit<PutRequest, 'key' | 'value'>;
export type DeleteOptions = CallOptions & KeyRangeOptions & { prevKv?: boolean };

/** etcd's minimum lease TTL for a Raft timing: 1.5 election timeouts, rounded up to seconds. */
export function minLeaseTtlFor(tickMs: number, electionTicks: number): number {
  return Math.max(1, Math.ceil((1.5 * electionTicks * tickMs) / 1000));
}

/**
 * Opens a member: the store in `dataDir`, the Raft log, and the RaftNode that replicates them.
 * A restart applies only the entries after the store's recorded position.
 */
export async function openKvMember(options: KvMemberOptions): Promise<KvMember> {
  await mkdir(options.dataDir, { recursive: true });
  const raft = options.raft ?? {};
  const tickMs = raft.tickMs ?? 100;
  const electionTicks = raft.electionTicks ?? 10;
  const kv = await KvStateMachine.open(join(options.dataDir, 'kv.db'), {
    minLeaseTtl: minLeaseTtlFor(tickMs, electionTicks),
    synchronous: 'normal',
    batchIntervalMs: DEFAULT_BATCH_INTERVAL_MS,
    ...options.store,
  });
  let logStore = options.logStore;
  try {
    logStore ??= await SqliteLogStore.open(join(options.dataDir, 'raft'));
    return new KvMember(options, kv, logStore);
  } catch (err) {
    kv.close();
    throw err;
  }
}

/**
 * A member of a replicated KV cluster, etcd 3.4's semantics. Every call takes an AbortSignal and
 * a timeout; every error is an etcd error class (NoLeaderError, RequestTimeoutError,
 * CompactedError, LeaseNotFoundError, ...) or the signal's reason.
 */
export class KvMember {
  /** This member's Raft id. */
  readonly id: number;
  /** The RaftNode underneath (status, membership changes, events). */
  readonly raft: RaftNode<MemberStateMachine>;
  private readonly kv: KvStateMachine;
  private readonly sm: MemberStateMachine;
  private readonly lessor: Lessor;
  private readonly hub: WatchHub;
  private readonly peers: KvPeerLink;
  private readonly clock: Clock;
  private readonly tickMs: number;
  private readonly electionTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxTxnOps: number;
  private readonly maxRequestBytes: number;
  private closing: Promise<void> | undefined;

  /** Use openKvMember(). */
  constructor(options: KvMemberOptions, kv: KvStateMachine, logStore: LogStore) {
    this.id = options.id;
    this.kv = kv;
    this.peers = options.peers;
    const raft = options.raft ?? {};
    this.clock = raft.clock ?? realClock;
    this.tickMs = raft.tickMs ?? 100;
    this.electionTimeoutMs = this.tickMs * (raft.electionTicks ?? 10);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.maxTxnOps = options.store?.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.maxRequestBytes = options.store?.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.lessor = new Lessor({ ...options.lessor, clock: this.clock, onExpired: (ids) => this.revokeExpired(ids) });
    this.lessor.reset(kv.store.leases());
    this.hub = new WatchHub(kv.store, options.watch);
    this.sm = new MemberStateMachine(kv, {
      leaseGranted: (id, ttl) => this.lessor.granted(id, ttl),
      leaseRevoked: (id) => this.lessor.revoked(id),
      emptyEntryApplied: (term) => {
        // etcd promotes the lessor when the leader applies its term's empty entry: every grant
        // and revoke of earlier terms is applied by then.
        if (this.raft.isLeader && term === this.raft.term) this.lessor.promote(this.electionTimeoutMs);
      },
      snapshotInstalled: () => this.lessor.reset(this.kv.store.leases()),
    });
    this.raft = new RaftNode<MemberStateMachine>({
      // A request within maxRequestBytes is checked here (write()); its encoded command, a little
      // larger, must not meet RaftNode's own limit (1 MiB by default) first.
      maxCommandBytes: Math.max(1 << 20, 2 * this.maxRequestBytes + (1 << 20)),
      ...raft,
      id: options.id,
      logStore,
      transport: options.transport,
      stateMachine: this.sm,
      ...(options.initialMembers === undefined ? {} : { initialMembers: options.initialMembers }),
      ...(options.join === undefined ? {} : { join: options.join }),
    });
    this.raft.on('roleChanged', ({ role }) => {
      if (role !== 'leader') this.lessor.demote();
    });
    this.peers.serve((request) => this.serve(request));
  }

  /** Whether this member leads the cluster now. */
  get isLeader(): boolean {
    return this.raft.isLeader;
  }

  /** The store's current revision on this member. */
  get revision(): number {
    return this.kv.store.revision;
  }

  // --- KV ---

  /** etcd's Range: linearizable unless `serializable`. */
  async range(request: RangeRequest, options: ReadOptions = {}): Promise<RangeResponse> {
    checkRangeRequest(request);
    return this.read((kv) => kv.store.range(request), options);
  }

  /** Reads one key, a range (`rangeEnd`) or a prefix (`prefix`). */
  async get(key: KeyInput, options: GetOptions = {}): Promise<RangeResponse> {
    const { signal, timeoutMs, serializable, prefix, rangeEnd, ...rest } = options;
    const request: RangeRequest = { ...rest, ...keyRange(key, { prefix, rangeEnd }) };
    return this.range(request, callOptions({ signal, timeoutMs, serializable }));
  }

  /** etcd's Put. */
  async put(key: KeyInput, value: KeyInput, options: PutOptions = {}): Promise<PutResponse> {
    const { signal, timeoutMs, ...rest } = options;
    const request: PutRequest = { ...rest, key: bytes('key', key), value: bytes('value', value) };
    checkPutRequest(request);
    return this.write({ op: 'put', request }, callOptions({ signal, timeoutMs })) as Promise<PutResponse>;
  }

  /** etcd's DeleteRange over one key, a range or a prefix. */
  async delete(key: KeyInput, options: DeleteOptions = {}): Promise<DeleteRangeResponse> {
    const { signal, timeoutMs, prefix, rangeEnd, prevKv } = options;
    const request: DeleteRangeRequest = { ...keyRange(key, { prefix, rangeEnd }), ...(prevKv === undefined ? {} : { prevKv }) };
    return this.deleteRange(request, callOptions({ signal, timeoutMs }));
  }

  /** etcd's DeleteRange. */
  async deleteRange(request: DeleteRangeRequest, options: CallOptions = {}): Promise<DeleteRangeResponse> {
    checkDeleteRequest(request);
    return this.write({ op: 'deleteRange', request }, options) as Promise<DeleteRangeResponse>;
  }

  /**
   * etcd's Txn. One without writes in either branch is a read (linearizable unless
   * `serializable`), as etcd serves it; one with writes goes through the log.
   */
  async txn(request: TxnRequest, options: ReadOptions = {}): Promise<TxnResponse> {
    checkTxnRequest(request, this.maxTxnOps);
    if (isReadOnlyTxn(request)) return this.read((kv) => kv.store.txn(request), options);
    return this.write({ op: 'txn', request }, options) as Promise<TxnResponse>;
  }

  /** etcd's Compact: drops the history at and below `revision` on every member. */
  compact(revision: number, options: CallOptions & { physical?: boolean } = {}): Promise<CompactionResponse> {
    // A negative revision goes through the log as in etcd, to be refused there as compacted.
    if (!Number.isSafeInteger(revision)) {
      return Promise.reject(new InvalidRequestError('compact.revision', `must be a safe integer, got ${String(revision)}`));
    }
    const { physical, ...call } = options;
    return this.write({ op: 'compact', request: { revision, ...(physical === undefined ? {} : { physical }) } }, call) as Promise<CompactionResponse>;
  }

  // --- Watch ---

  /**
   * Watches a key, a range or a prefix on this member: events arrive as this member applies
   * them, in revision order, once each, one response per revision (etcd's guarantees). Iterate
   * the watcher; leaving the loop, the signal or cancelWatch() cancels it. A start revision below
   * the compact revision ends the stream with a response that is `canceled` and carries
   * `compactRevision`.
   */
  watch(key: KeyInput, options: WatchOptions = {}): Watcher {
    this.checkOpen();
    const { prefix, rangeEnd, signal, startRevision, prevKv, filters, progressNotify } = options;
    signal?.throwIfAborted();
    const w = this.hub.watch({
      ...keyRange(key, { prefix, rangeEnd }),
      ...(startRevision === undefined ? {} : { startRevision }),
      ...(prevKv === undefined ? {} : { prevKv }),
      ...(filters === undefined ? {} : { filters }),
      ...(progressNotify === undefined ? {} : { progressNotify }),
    });
    signal?.addEventListener('abort', () => this.hub.cancel(w.id), { once: true });
    return w;
  }

  /** The watches open on this member, by the watch hub's sets (for metrics and leak checks). */
  watchSizes(): { synced: number; unsynced: number; victims: number } {
    return this.hub.sizes;
  }

  /** Cancels a watch by id; returns whether it was active. */
  cancelWatch(watchId: number): boolean {
    return this.hub.cancel(watchId);
  }

  /** Asks for a progress notification on a synced watch (etcd's RequestProgress). */
  requestWatchProgress(watchId: number): boolean {
    return this.hub.requestProgress(watchId);
  }

  // --- Leases ---

  /** Grants a lease of `ttl` seconds (raised to etcd's minimum), with `id` or one the store picks. */
  leaseGrant(ttl: number, options: CallOptions & { id?: bigint } = {}): Promise<LeaseGrantResponse> {
    if (!Number.isSafeInteger(ttl)) return Promise.reject(new InvalidRequestError('leaseGrant.ttl', `must be a safe integer, got ${String(ttl)}`));
    const { id, ...call } = options;
    if (id !== undefined && (typeof id !== 'bigint' || id < 0n || id >= 2n ** 63n)) {
      return Promise.reject(new InvalidRequestError('leaseGrant.id', 'must be a bigint in [0, 2^63)'));
    }
    if (ttl > MAX_LEASE_TTL) return Promise.reject(new LeaseTtlTooLargeError(ttl));
    return this.write({ op: 'leaseGrant', request: { ttl, ...(id === undefined ? {} : { id }) } }, call) as Promise<LeaseGrantResponse>;
  }

  /** Revokes a lease: its keys are deleted in one revision. */
  leaseRevoke(id: bigint, options: CallOptions = {}): Promise<LeaseRevokeResponse> {
    if (typeof id !== 'bigint') return Promise.reject(new InvalidRequestError('leaseRevoke.id', 'must be a bigint'));
    return this.write({ op: 'leaseRevoke', request: { id } }, options) as Promise<LeaseRevokeResponse>;
  }

  /**
   * Renews a lease once (its TTL counts again from now on the leader). From a follower the
   * keepalive goes to the leader. Rejects with LeaseNotFoundError when the lease is gone, as
   * etcd's client does for a TTL of 0.
   */
  async leaseKeepAliveOnce(id: bigint, options: CallOptions = {}): Promise<LeaseKeepAliveResponse> {
    if (typeof id !== 'bigint') throw new InvalidRequestError('leaseKeepAlive.id', 'must be a bigint');
    const { ttl } = await this.atLeader({ kind: 'leaseRenew', id }, options);
    return { header: this.header(), id, ttl };
  }

  /** The lease's remaining time on the leader's clock (-1 when not granted), with its keys if asked. */
  async leaseTimeToLive(id: bigint, options: CallOptions & { keys?: boolean } = {}): Promise<LeaseTimeToLiveResponse> {
    if (typeof id !== 'bigint') throw new InvalidRequestError('leaseTimeToLive.id', 'must be a bigint');
    const { keys, ...call } = options;
    const r = await this.atLeader({ kind: 'leaseTimeToLive', id, keys: keys === true }, call);
    return { header: this.header(), id, ...r };
  }

  /**
   * The leases granted, as this member has applied them (etcd serves this locally too), soonest
   * to expire first as etcd's lessor sorts them: on the leader by expiry, elsewhere (where every
   * lease is kept forever) by id.
   */
  async leases(): Promise<LeaseLeasesResponse> {
    this.checkOpen();
    const expiry = (id: bigint): number => this.lessor.expiresAtMs(id);
    const ids = this.kv.store.leases().map(({ id }) => ({ id, at: expiry(id) }));
    ids.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { header: this.header(), leases: ids.map(({ id }) => ({ id })) };
  }

  /**
   * Grants a lease and keeps it alive (a keepalive every third of its TTL, through any member)
   * until close() or revoke(). `lost` settles if it could not be kept.
   */
  async lease(ttl: number, options: CallOptions & { id?: bigint } = {}): Promise<KvLease> {
    const granted = await this.leaseGrant(ttl, options);
    return new KvLease(this, granted.id, granted.ttl, this.clock);
  }

  // --- Maintenance ---

  /** etcd's HashKV on this member's store at `revision` (0: the current one). */
  hashKV(revision = 0): HashKVResponse {
    this.checkOpen();
    return this.withTerm(this.kv.store.hashKV(revision));
  }

  /** The store's compact revision on this member. */
  get compactRevision(): number {
    return this.kv.store.compactRevision;
  }

  /** The database's size in bytes on this member (what the quota is compared with). */
  dbSizeBytes(): number {
    this.checkOpen();
    return this.kv.sizeBytes();
  }

  /**
   * This member's committed history as of now, for reading in full while it goes on serving (a
   * read transaction of its own; see KvStateMachine.openHistory). Close it when done.
   */
  openHistory(): { readonly position: KvLogPosition; readonly history: ImportedHistory; close(): void } {
    this.checkOpen();
    return this.kv.openHistory();
  }

  /**
   * A path for a temporary file beside the store (the same disk), named `tag`: the caller removes
   * it; one left behind by a crash is removed when the member next opens.
   */
  temporaryPath(tag: string): string {
    return this.kv.temporaryPath(tag);
  }

  /**
   * A consistent point-in-time copy of this member's store (its SQLite file), streamed in chunks:
   * what Raft sends a follower that is too far behind. (pontoon-kv's Maintenance.Snapshot writes
   * etcd's format from openHistory instead.) Close it when done: the copy is a temporary file.
   */
  openSnapshot(): Promise<KvSnapshotSource> {
    this.checkOpen();
    return this.kv.openSnapshot();
  }

  /** Rewrites this member's database without its free pages (etcd's Defragment). */
  defragment(): void {
    this.checkOpen();
    // VACUUM cannot run inside a transaction: the open batch is committed first.
    this.kv.store.commit();
    this.kv.store.database.exec('VACUUM');
  }

  // --- Cluster metadata and membership ---

  /**
   * Sets (or, with `value` undefined, deletes) an entry of the replicated cluster metadata
   * (ClusterMetaRequest) through the log, from any member.
   */
  setClusterMeta(name: string, value: Uint8Array | undefined, options: CallOptions = {}): Promise<ClusterMetaResponse> {
    return this.write({ op: 'clusterMeta', request: { name, ...(value === undefined ? {} : { value }) } }, options) as Promise<ClusterMetaResponse>;
  }

  /** The cluster metadata as this member has applied it. */
  clusterMeta(): Map<string, Uint8Array> {
    this.checkOpen();
    return this.kv.clusterMeta();
  }

  /**
   * Changes the Raft membership from any member: on the leader directly, from a follower
   * through the peer link. Resolves with the membership once the change applied here.
   */
  async changeMembership(changes: readonly MembershipChange[], options: CallOptions = {}): Promise<Membership> {
    this.checkOpen();
    const call = this.deadline(options);
    try {
      for (;;) {
        if (this.closing !== undefined || this.raft.isStopped) throw new MemberStoppedError();
        call.throwIfOver();
        const leader = this.raft.leaderId;
        if (leader === this.id) {
          try {
            return await this.raft.changeMembership(changes, { signal: call.signal, timeoutMs: call.remainingMs() });
          } catch (err) {
            if (err instanceof NotLeaderError) continue;
            throw err;
          }
        }
        if (leader === undefined) {
          await this.sleep(this.tickMs, call.signal);
          continue;
        }
        let answer: PeerResponse<'changeMembership'>;
        try {
          answer = await this.peers.call(leader, { kind: 'changeMembership', changes: [...changes] }, call.signal);
        } catch (err) {
          if (err instanceof PeerUnreachableError || err instanceof NotLeaderError) {
            await this.sleep(this.tickMs, call.signal);
            continue;
          }
          throw err;
        }
        await this.raft.waitForApplied(answer.appliedIndex, { signal: call.signal }).catch(() => undefined);
        return this.raft.membership();
      }
    } catch (err) {
      throw this.etcdError(err, call);
    } finally {
      call.dispose();
    }
  }

  // --- Lifecycle ---

  /**
   * Stops the member: the lessor, the peer link, the RaftNode (which closes its transport and
   * log store), then the store. Rejects with NodeFailedError if the node had stopped itself
   * after an unrecoverable error. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lessor.stop();
      this.hub.close();
      this.peers.close();
      try {
        await this.raft.stop();
      } finally {
        this.kv.close();
      }
    })();
    return this.closing;
  }

  // --- Request paths ---

  private header(): ResponseHeader {
    return { revision: this.kv.store.revision, raftTerm: this.raft.term };
  }

  private withTerm<T extends { header: ResponseHeader }>(response: T): T {
    response.header.raftTerm = this.raft.term;
    return response;
  }

  private checkOpen(): void {
    if (this.closing !== undefined || this.raft.isStopped) throw new MemberStoppedError();
  }

  private async read<T extends { header: ResponseHeader }>(fn: (kv: KvStateMachine) => T, options: ReadOptions): Promise<T> {
    this.checkOpen();
    if (options.serializable === true) return this.withTerm(fn(this.kv));
    const call = this.deadline(options);
    try {
      // The read index is confirmed with a quorum; the store is read once this member applied it.
      const r = await this.raft.read((sm) => fn(sm.kv), { signal: call.user, timeoutMs: call.remainingMs() });
      return this.withTerm(r as T);
    } catch (err) {
      throw this.etcdError(err, call);
    } finally {
      call.dispose();
    }
  }

  /**
   * Proposes a write on this member (RaftNode forwards it to the leader from a follower) and
   * answers once it is applied here, so that this member's own reads see it.
   */
  private async write(command: KvCommand, options: CallOptions): Promise<KvResponse> {
    this.checkOpen();
    // etcd's checks before proposing: the request's size (--max-request-bytes), then the quota
    // on the serving member's own database size.
    if (command.op === 'put') checkRequestSize({ put: command.request }, this.maxRequestBytes);
    else if (command.op === 'txn') checkRequestSize({ txn: command.request }, this.maxRequestBytes);
    this.kv.checkQuota(command);
    const data = encodeCommand(command);
    const call = this.deadline(options);
    try {
      for (;;) {
        if (this.closing !== undefined || this.raft.isStopped) throw new MemberStoppedError();
        call.throwIfOver();
        try {
          const result = await this.raft.propose(data, { signal: call.user, timeoutMs: call.remainingMs() });
          return this.withTerm(unwrap(result));
        } catch (err) {
          // No leader to take it, or a leader change dropped it: it certainly did not apply, so
          // it is safe to propose again (until the deadline, which then says "no leader").
          if (err instanceof NotLeaderError || err instanceof ProposalDroppedError) {
            await this.sleep(this.tickMs, call.signal);
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      throw this.etcdError(err, call);
    } finally {
      call.dispose();
    }
  }

  /** Runs a lease request on the leader's lessor (here when this member is the primary). */
  private async atLeader<R extends Exclude<PeerRequest, { kind: 'changeMembership' }>>(
    request: R,
    options: CallOptions,
  ): Promise<PeerResponse<R['kind']>> {
    this.checkOpen();
    const call = this.deadline(options);
    try {
      for (;;) {
        if (this.closing !== undefined || this.raft.isStopped) throw new MemberStoppedError();
        call.throwIfOver();
        const leader = this.raft.leaderId;
        try {
          if (leader === this.id) return (await this.serveLease(request)) as PeerResponse<R['kind']>;
          if (leader !== undefined) return await this.peers.call(leader, request, call.signal);
        } catch (err) {
          if (!(err instanceof NotPrimaryError || err instanceof PeerUnreachableError)) throw err;
        }
        // No leader yet, or one not yet promoted (it has not applied its term's first entry).
        await this.sleep(this.tickMs, call.signal);
      }
    } catch (err) {
      throw this.etcdError(err, call);
    } finally {
      call.dispose();
    }
  }

  /** A peer's request, served here as the leader. */
  private async serve(request: PeerRequest): Promise<PeerResponse> {
    if (this.closing !== undefined || this.raft.isStopped) throw new MemberStoppedError();
    if (request.kind === 'changeMembership') {
      if (!this.raft.isLeader) throw new NotLeaderError(this.raft.leaderId, undefined);
      await this.raft.changeMembership(request.changes);
      return { appliedIndex: this.raft.status().appliedIndex };
    }
    return this.serveLease(request);
  }

  private async serveLease(request: Exclude<PeerRequest, { kind: 'changeMembership' }>): Promise<PeerResponse> {
    if (!this.raft.isLeader) throw new NotPrimaryError();
    if (request.kind === 'leaseRenew') return { ttl: await this.lessor.renew(request.id) };
    const remainingMs = this.lessor.remainingMs(request.id);
    const lease = this.kv.store.lease(request.id);
    if (remainingMs === undefined || lease === undefined) return { ttl: -1, grantedTtl: 0, keys: [] };
    // etcd truncates the remaining duration to whole seconds.
    return { ttl: Math.trunc(remainingMs / 1000), grantedTtl: lease.ttl, keys: request.keys ? lease.keys : [] };
  }

  /** The primary's expired leases: revoked through the log, proposed here only while leading. */
  private revokeExpired(ids: bigint[]): void {
    for (const id of ids) {
      if (!this.raft.isLeader) return;
      // A failed revoke (leadership lost, timeout) is retried by the lessor, or decided by the next leader.
      this.raft.propose(encodeCommand({ op: 'leaseRevoke', request: { id } }), { timeoutMs: this.electionTimeoutMs * 3 }).catch(() => undefined);
    }
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.clock.clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = this.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The call's deadline on the member's clock, with the caller's signal. */
  private deadline(options: CallOptions): CallDeadline {
    return new CallDeadline(this.clock, options.timeoutMs ?? this.requestTimeoutMs, options.signal);
  }

  /** Maps what the Raft layer rejects with onto etcd's errors. */
  private etcdError(err: unknown, call: CallDeadline): unknown {
    if (call.user?.aborted === true && err === call.user.reason) return err;
    // A deadline passed (or Raft's read timed out) while no leader was known: etcd says so.
    if ((err instanceof RequestTimeoutError || err instanceof TimeoutError) && this.raft.leaderId === undefined) {
      return new NoLeaderError({ cause: err });
    }
    if (err instanceof NotLeaderError && err.leaderId === undefined) return new NoLeaderError({ cause: err });
    if (err instanceof TimeoutError || err instanceof ProposalOutcomeUnknownError || err instanceof ProposalDroppedError) {
      return new RequestTimeoutError(undefined, { cause: err });
    }
    if (err instanceof NodeStoppedError || err instanceof NodeFailedError) return new MemberStoppedError({ cause: err });
    if (err instanceof CommandTooLargeError) return new RequestTooLargeError(err.size, err.limit);
    return err;
  }
}

/**
 * A lease kept alive by its member: a keepalive every third of the TTL (as etcd's client does),
 * through whichever member it was granted on. `lost` resolves with the reason once it cannot be
 * kept (revoked, expired, or no keepalive succeeded for a whole TTL).
 */
export class KvLease {
  /** Resolves when the lease is lost (not when closed or revoked through this object). */
  readonly lost: Promise<Error>;
  private timer: ClockTimer | undefined;
  private done = false;
  private lastRenewedMs: number;
  private markLost!: (reason: Error) => void;
  private readonly controller = new AbortController();

  constructor(
    private readonly member: KvMember,
    readonly id: bigint,
    readonly ttl: number,
    private readonly clock: Clock,
  ) {
    this.lost = new Promise<Error>((resolve) => (this.markLost = resolve));
    this.lastRenewedMs = clock.now();
    this.schedule();
  }

  /** Stops keeping the lease alive; it expires on its own after its TTL. */
  close(): void {
    this.done = true;
    this.controller.abort(new MemberStoppedError());
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  /** Stops keeping it alive and revokes it (its keys are deleted). */
  async revoke(options: CallOptions = {}): Promise<LeaseRevokeResponse> {
    this.close();
    return this.member.leaseRevoke(this.id, options);
  }

  private schedule(): void {
    if (this.done) return;
    this.timer = this.clock.setTimeout(() => void this.keepAlive(), Math.max(1, (this.ttl * 1000) / 3));
  }

  private async keepAlive(): Promise<void> {
    if (this.done) return;
    try {
      await this.member.leaseKeepAliveOnce(this.id, { signal: this.controller.signal, timeoutMs: (this.ttl * 1000) / 3 });
      this.lastRenewedMs = this.clock.now();
    } catch (err) {
      if (this.done) return;
      const gone = err instanceof LeaseNotFoundError || err instanceof MemberStoppedError;
      if (gone || this.clock.now() - this.lastRenewedMs >= this.ttl * 1000) {
        this.done = true;
        this.markLost(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
    this.schedule();
  }
}

function unwrap(result: KvApplyResult): KvResponse {
  if (result === undefined) throw new InvalidRequestError('command', 'applied as an entry without a command');
  if (!result.ok) throw result.error;
  return result.response;
}

function callOptions<T extends ReadOptions>(o: T): T {
  const out: Partial<ReadOptions> = {};
  if (o.signal !== undefined) out.signal = o.signal;
  if (o.timeoutMs !== undefined) out.timeoutMs = o.timeoutMs;
  if (o.serializable !== undefined) out.serializable = o.serializable;
  return out as T;
}

const encoder = new TextEncoder();

/** etcd's default backend batch interval (--backend-batch-interval), in ms. */
const DEFAULT_BATCH_INTERVAL_MS = 100;

function bytes(field: string, v: KeyInput): Uint8Array {
  if (typeof v === 'string') return encoder.encode(v);
  if (v instanceof Uint8Array) return v;
  throw new InvalidRequestError(field, 'must be a string or a Uint8Array');
}

function keyRange(key: KeyInput, o: KeyRangeOptions): { key: Uint8Array; rangeEnd?: Uint8Array } {
  const k = bytes('key', key);
  if (o.prefix === true) {
    if (o.rangeEnd !== undefined) throw new InvalidRequestError('rangeEnd', 'not with prefix');
    // clientv3's WithPrefix: the empty prefix is every key, from "\0" on.
    if (k.length === 0) return { key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) };
    return { key: k, rangeEnd: prefixEnd(k) };
  }
  return o.rangeEnd === undefined ? { key: k } : { key: k, rangeEnd: bytes('rangeEnd', o.rangeEnd) };
}

function isReadOnlyTxn(r: TxnRequest): boolean {
  const readOnly = (ops: TxnRequest['success']): boolean =>
    ops.every((op) => 'range' in op || ('txn' in op && isReadOnlyTxn(op.txn)));
  return readOnly(r.success) && readOnly(r.failure);
}
