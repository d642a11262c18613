/**
 * The kv suite's floor: etcd's gRPC surface with nothing behind it. Every call the workloads
 * make (KV Put/Range/Txn/Compact, Maintenance Status, Lease Grant/Revoke/KeepAlive, Watch) is
 * answered at once from a map in memory, with a header whose revision counts the writes as
 * etcd's does. No consensus, no disk, no second process: what is left is gRPC, protobuf and the
 * etcd3 client, so a system's share of the floor's rate is how close it comes to what this
 * machine allows with that client.
 *
 * One process plays the three members, one gRPC server (port) each over one shared map, member
 * 1 saying it leads: watchers on "followers" see every write at once, as they would if
 * replication were free. Anything the workloads do not call answers UNIMPLEMENTED, naming it.
 */
import * as grpc from '@grpc/grpc-js';
import { loadEtcdProtos } from 'pontoon-kv';
import type { EtcdServiceDefinitions } from 'pontoon-kv';

type Defs = EtcdServiceDefinitions;
/** The decoded request and the response of one method of the vendored protos. */
type Req<M> = M extends { requestDeserialize: (bytes: Buffer) => infer R } ? R : never;
type Res<M> = M extends { responseSerialize: (value: infer R) => Buffer } ? R : never;
type Unary<M> = grpc.handleUnaryCall<Req<M>, Res<M>>;
type Bidi<M> = grpc.handleBidiStreamingCall<Req<M>, Res<M>>;

type PutRequest = Req<Defs['KV']['Put']>;
type RangeRequest = Req<Defs['KV']['Range']>;
type TxnRequest = Req<Defs['KV']['Txn']>;
type Compare = TxnRequest['compare'][number];
type ResponseOp = NonNullable<Res<Defs['KV']['Txn']>['responses']>[number];
type WatchResponse = Res<Defs['Watch']['Watch']>;
type KeyValue = NonNullable<Res<Defs['KV']['Range']>['kvs']>[number];
type Header = { cluster_id: string; member_id: string; revision: string; raft_term: string };

const CLUSTER_ID = '7100';
const RAFT_TERM = '2';
/** The member ids of the three ports; the first leads. */
export const FLOOR_MEMBER_IDS = ['1', '2', '3'] as const;

interface Entry {
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: string;
}

interface FloorWatcher {
  stream: grpc.ServerDuplexStream<Req<Defs['Watch']['Watch']>, WatchResponse>;
  memberId: string;
  watchId: string;
  /** Latin-1 strings of the key bytes: one char a byte, so string order is etcd's byte order. */
  key: string;
  /** undefined: the key alone; '\0': every key from `key` on. */
  rangeEnd: string | undefined;
}

class FloorError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

function unimplemented(what: string): FloorError {
  return new FloorError(grpc.status.UNIMPLEMENTED, `the kv bench's floor server does not implement ${what}`);
}

/** The shared state of the three ports: keys, revision, leases, watchers. */
class FloorStore {
  revision = 1;
  compacted = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly leases = new Map<string, string>();
  private nextLeaseId = 1;
  readonly watchers = new Set<FloorWatcher>();

  header(memberId: string, revision = this.revision): Header {
    return { cluster_id: CLUSTER_ID, member_id: memberId, revision: String(revision), raft_term: RAFT_TERM };
  }

  get(key: Buffer): Entry | undefined {
    return this.entries.get(key.toString('latin1'));
  }

  /** Writes `key` at `revision` (every put of one txn shares its revision, as in etcd). */
  put(r: PutRequest, revision: number): { entry: Entry; prev: Entry | undefined } {
    const name = r.key.toString('latin1');
    const prev = this.entries.get(name);
    if (r.ignore_value && prev === undefined) throw new FloorError(grpc.status.INVALID_ARGUMENT, 'etcdserver: key not found');
    const entry: Entry = {
      key: r.key,
      value: r.ignore_value ? prev!.value : r.value,
      createRevision: prev?.createRevision ?? revision,
      modRevision: revision,
      version: (prev?.version ?? 0) + 1,
      lease: r.ignore_lease ? (prev?.lease ?? '0') : r.lease,
    };
    this.entries.set(name, entry);
    return { entry, prev };
  }

  /** Keys in [key, rangeEnd) in byte order, or the key alone. */
  range(key: Buffer, rangeEnd: Buffer): Entry[] {
    if (rangeEnd.length === 0) {
      const e = this.get(key);
      return e === undefined ? [] : [e];
    }
    const from = key.toString('latin1');
    const to = rangeEnd.toString('latin1');
    const all = to === '\0';
    const out: Entry[] = [];
    for (const [name, e] of this.entries) if (name >= from && (all || name < to)) out.push(e);
    return out.sort((a, b) => Buffer.compare(a.key, b.key));
  }

  grantLease(id: string, ttl: string): string {
    const leaseId = id !== '0' ? id : String(this.nextLeaseId++);
    if (this.leases.has(leaseId)) throw new FloorError(grpc.status.FAILED_PRECONDITION, 'etcdserver: lease already exists');
    this.leases.set(leaseId, ttl);
    return leaseId;
  }

  leaseTtl(id: string): string | undefined {
    return this.leases.get(id);
  }

  revokeLease(id: string): void {
    if (!this.leases.delete(id)) throw new FloorError(grpc.status.NOT_FOUND, 'etcdserver: requested lease not found');
  }

  /** Sends the put of `entry` to every watcher of its key, each with its port's header. */
  notify(entry: Entry): void {
    if (this.watchers.size === 0) return;
    const name = entry.key.toString('latin1');
    const kv = keyValue(entry);
    for (const w of this.watchers) {
      const inRange = w.rangeEnd === undefined ? name === w.key : name >= w.key && (w.rangeEnd === '\0' || name < w.rangeEnd);
      if (!inRange) continue;
      w.stream.write({ header: this.header(w.memberId, entry.modRevision), watch_id: w.watchId, events: [{ type: 'PUT', kv }] });
    }
  }
}

function keyValue(e: Entry, keysOnly = false): KeyValue {
  return {
    key: e.key,
    create_revision: String(e.createRevision),
    mod_revision: String(e.modRevision),
    version: String(e.version),
    value: keysOnly ? Buffer.alloc(0) : e.value,
    lease: e.lease,
  };
}

/** etcd's compare of an int64 target: a missing key reads as 0. */
function compareNumbers(actual: number, wanted: number, result: Compare['result']): boolean {
  switch (result) {
    case 'EQUAL':
      return actual === wanted;
    case 'NOT_EQUAL':
      return actual !== wanted;
    case 'GREATER':
      return actual > wanted;
    case 'LESS':
      return actual < wanted;
  }
}

function compareHolds(store: FloorStore, c: Compare): boolean {
  if (c.range_end.length > 0) throw unimplemented('compares over a key range');
  const e = store.get(c.key);
  switch (c.target) {
    case 'VERSION':
      return compareNumbers(e?.version ?? 0, Number(c.version ?? '0'), c.result);
    case 'CREATE':
      return compareNumbers(e?.createRevision ?? 0, Number(c.create_revision ?? '0'), c.result);
    case 'MOD':
      return compareNumbers(e?.modRevision ?? 0, Number(c.mod_revision ?? '0'), c.result);
    case 'LEASE':
      return compareNumbers(Number(e?.lease ?? '0'), Number(c.lease ?? '0'), c.result);
    case 'VALUE': {
      // etcd: a value compare on a missing key is false whatever the operator.
      if (e === undefined) return false;
      const order = Buffer.compare(e.value, c.value ?? Buffer.alloc(0));
      return compareNumbers(order, 0, c.result);
    }
  }
}

function rangeResponse(store: FloorStore, memberId: string, r: RangeRequest): Res<Defs['KV']['Range']> {
  if (r.revision !== '0') throw unimplemented('reads at a past revision');
  const found = store.range(r.key, r.range_end);
  const limit = Number(r.limit);
  const kvs = r.count_only ? [] : (limit > 0 ? found.slice(0, limit) : found).map((e) => keyValue(e, r.keys_only));
  return { header: store.header(memberId), kvs, more: limit > 0 && found.length > limit, count: String(found.length) };
}

/** Answers a unary call from `answer`, turning a FloorError into its status. */
function unary<M>(answer: (request: Req<M>) => Res<M>): Unary<M> {
  return (call, callback) => {
    try {
      callback(null, answer(call.request));
    } catch (err) {
      if (!(err instanceof FloorError)) throw err;
      callback({ code: err.code, details: err.message });
    }
  };
}

function kvService(store: FloorStore, memberId: string): grpc.UntypedServiceImplementation {
  const Put = unary<Defs['KV']['Put']>((r) => {
    const { entry, prev } = store.put(r, store.revision + 1);
    store.revision = entry.modRevision;
    store.notify(entry);
    return { header: store.header(memberId), prev_kv: r.prev_kv && prev !== undefined ? keyValue(prev) : null };
  });
  const Range = unary<Defs['KV']['Range']>((r) => rangeResponse(store, memberId, r));
  const Txn = unary<Defs['KV']['Txn']>((r) => {
    const succeeded = r.compare.every((c) => compareHolds(store, c));
    const ops = succeeded ? r.success : r.failure;
    // Every refusal comes before the first write: a txn applies whole or not at all.
    for (const op of ops) {
      if (op.request === 'request_put' && op.request_put) {
        if (op.request_put.ignore_value && store.get(op.request_put.key) === undefined) throw new FloorError(grpc.status.INVALID_ARGUMENT, 'etcdserver: key not found');
      } else if (op.request === 'request_range' && op.request_range) {
        if (op.request_range.revision !== '0') throw unimplemented('reads at a past revision');
      } else {
        throw unimplemented(`${op.request ?? 'an empty request'} in a txn`);
      }
    }
    const writes = ops.some((op) => op.request === 'request_put');
    if (writes) store.revision++;
    const written: Entry[] = [];
    const responses: ResponseOp[] = ops.map((op) => {
      if (op.request === 'request_put' && op.request_put) {
        const { entry, prev } = store.put(op.request_put, store.revision);
        written.push(entry);
        return { response_put: { header: store.header(memberId), prev_kv: op.request_put.prev_kv && prev !== undefined ? keyValue(prev) : null } };
      }
      return { response_range: rangeResponse(store, memberId, op.request_range!) };
    });
    for (const e of written) store.notify(e);
    return { header: store.header(memberId), succeeded, responses };
  });
  const Compact = unary<Defs['KV']['Compact']>((r) => {
    const revision = Number(r.revision);
    if (revision <= store.compacted) throw new FloorError(grpc.status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted');
    if (revision > store.revision) throw new FloorError(grpc.status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision');
    // The floor keeps no history, so there is nothing to drop: only the mark moves.
    store.compacted = revision;
    return { header: store.header(memberId) };
  });
  return { Put, Range, Txn, Compact };
}

function maintenanceService(store: FloorStore, memberId: string): grpc.UntypedServiceImplementation {
  const Status = unary<Defs['Maintenance']['Status']>(() => ({
    header: store.header(memberId),
    version: 'kv-bench-floor',
    dbSize: '0',
    leader: FLOOR_MEMBER_IDS[0],
    raftIndex: String(store.revision),
    raftTerm: RAFT_TERM,
    raftAppliedIndex: String(store.revision),
    errors: [],
    dbSizeInUse: '0',
    isLearner: false,
  }));
  return { Status };
}

function leaseService(store: FloorStore, memberId: string): grpc.UntypedServiceImplementation {
  const LeaseGrant = unary<Defs['Lease']['LeaseGrant']>((r) => {
    const id = store.grantLease(r.ID, r.TTL);
    return { header: store.header(memberId), ID: id, TTL: r.TTL, error: '' };
  });
  const LeaseRevoke = unary<Defs['Lease']['LeaseRevoke']>((r) => {
    store.revokeLease(r.ID);
    return { header: store.header(memberId) };
  });
  const LeaseKeepAlive: Bidi<Defs['Lease']['LeaseKeepAlive']> = (stream) => {
    // etcd answers a keepalive of an unknown lease with TTL 0, not an error.
    stream.on('data', (r: Req<Defs['Lease']['LeaseKeepAlive']>) => stream.write({ header: store.header(memberId), ID: r.ID, TTL: store.leaseTtl(r.ID) ?? '0' }));
    stream.on('end', () => stream.end());
    stream.on('error', () => {});
  };
  return { LeaseGrant, LeaseRevoke, LeaseKeepAlive };
}

function watchService(store: FloorStore, memberId: string): grpc.UntypedServiceImplementation {
  let nextWatchId = 0;
  const Watch: Bidi<Defs['Watch']['Watch']> = (stream) => {
    const mine = new Map<string, FloorWatcher>();
    const drop = (): void => {
      for (const w of mine.values()) store.watchers.delete(w);
      mine.clear();
    };
    stream.on('data', (r: Req<Defs['Watch']['Watch']>) => {
      if (r.request_union === 'create_request' && r.create_request) {
        const c = r.create_request;
        // progress_notify (the etcd3 client always asks) is accepted and never acted on: etcd 3.4
        // sends the first notification after 10 minutes, far beyond any window of the bench.
        if (c.start_revision !== '0' || c.filters.length > 0 || c.prev_kv) {
          // etcd refuses a watch it cannot create with a response both created and canceled.
          const reason = unimplemented('watches from a past revision, with filters or with prev_kv').message;
          stream.write({ header: store.header(memberId), watch_id: '-1', created: true, canceled: true, cancel_reason: reason });
          return;
        }
        const watchId = c.watch_id !== '0' ? c.watch_id : String(nextWatchId++);
        const w: FloorWatcher = {
          stream,
          memberId,
          watchId,
          // etcd: an empty key is "\0", the smallest key.
          key: c.key.length === 0 ? '\0' : c.key.toString('latin1'),
          rangeEnd: c.range_end.length === 0 ? undefined : c.range_end.toString('latin1'),
        };
        mine.set(watchId, w);
        store.watchers.add(w);
        stream.write({ header: store.header(memberId), watch_id: watchId, created: true });
      } else if (r.request_union === 'cancel_request' && r.cancel_request) {
        const w = mine.get(r.cancel_request.watch_id);
        if (w === undefined) return;
        mine.delete(w.watchId);
        store.watchers.delete(w);
        stream.write({ header: store.header(memberId), watch_id: w.watchId, canceled: true });
      } else if (r.request_union === 'progress_request') {
        // etcd 3.4 answers a progress request on the stream with watch id -1 and the revision.
        stream.write({ header: store.header(memberId), watch_id: '-1' });
      }
    });
    stream.on('end', () => {
      drop();
      stream.end();
    });
    stream.on('error', drop);
    stream.on('close', drop);
  };
  return { Watch };
}

/** The floor's three ports, listening on 127.0.0.1. */
export interface FloorServer {
  /** `http://127.0.0.1:<port>`, member 1 (the leader) first. */
  readonly endpoints: readonly string[];
  close(): Promise<void>;
}

export async function startFloorServer(): Promise<FloorServer> {
  const { services } = loadEtcdProtos();
  const store = new FloorStore();
  const servers: grpc.Server[] = [];
  const endpoints: string[] = [];
  for (const memberId of FLOOR_MEMBER_IDS) {
    const server = new grpc.Server();
    server.addService(services.KV, kvService(store, memberId));
    server.addService(services.Maintenance, maintenanceService(store, memberId));
    server.addService(services.Lease, leaseService(store, memberId));
    server.addService(services.Watch, watchService(store, memberId));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    servers.push(server);
    endpoints.push(`http://127.0.0.1:${port}`);
  }
  return {
    endpoints,
    close: async () => {
      for (const s of servers) s.forceShutdown();
    },
  };
}
