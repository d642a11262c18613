/**
 * etcd's clientv3/concurrency recipes (session, mutex, election), run server-side on a KvMember
 * as etcd's v3lock and v3election services run them on an in-process client: the same keys
 * (`<name>/<lease id in hex>`), the same transactions, the same waits (for every key of the
 * prefix created before ours to be deleted), so a lock or an election held through pontoon-kv
 * and one held through a clientv3 program on etcd behave alike.
 */
import { prefixEnd, type KeyValue, type KvMember, type RangeResponse, type ResponseHeader } from '@pontoon/kv';
import { EtcdError } from '../etcd-errors.js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { toGrpcStatus } from './grpc-status.js';

/** clientv3/concurrency's default session TTL, in seconds. */
const SESSION_TTL = 60;
const encoder = new TextEncoder();

/**
 * concurrency.NewSession(WithLease(lease)) then Orphan(): a lease of 0 grants a new one of the
 * default TTL that nobody keeps alive; any other id is used as given.
 */
/**
 * etcd's v3lock and v3election servers reach the KV and lease services through an embedded
 * clientv3, which hands their errors back as plain errors: gRPC then answers UNKNOWN with the
 * same text ("etcdserver: requested lease not found" is NOT_FOUND from KV, UNKNOWN from Lock).
 */
export function throughEmbeddedClient<Req, Res>(fn: (request: Req, signal: AbortSignal) => Promise<Res>): (request: Req, signal: AbortSignal) => Promise<Res> {
  return async (request, signal) => {
    try {
      return await fn(request, signal);
    } catch (err) {
      const status = toGrpcStatus(err);
      // A call the client left is answered as cancelled, whatever clientv3 would make of it.
      if (status.code === GrpcStatus.CANCELLED) throw err;
      throw new Error(status.details);
    }
  };
}

export async function sessionLease(member: KvMember, lease: bigint, signal: AbortSignal): Promise<bigint> {
  if (lease !== 0n) return lease;
  return (await member.leaseGrant(SESSION_TTL, { signal })).id;
}

/** `<pfx><lease as lower-case hex>`, as fmt's %x prints an int64 (a minus sign for negatives). */
export function sessionKey(pfx: Uint8Array, lease: bigint): Uint8Array {
  const hex = lease < 0n ? `-${(-lease).toString(16)}` : lease.toString(16);
  return concat(pfx, encoder.encode(hex));
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function prefixRange(pfx: Uint8Array): { key: Uint8Array; rangeEnd: Uint8Array } {
  return { key: pfx, rangeEnd: prefixEnd(pfx) };
}

/** clientv3's WithFirstCreate: the key of the prefix created first. */
export function firstCreate(member: KvMember, pfx: Uint8Array, signal: AbortSignal): Promise<RangeResponse> {
  return member.range({ ...prefixRange(pfx), sortTarget: 'create', sortOrder: 'ascend', limit: 1 }, { signal });
}

/** Waits for one DELETE event of `key` at or after `revision`. */
async function waitDelete(member: KvMember, key: Uint8Array, revision: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const watcher = member.watch(key, { startRevision: revision, signal });
  try {
    for await (const resp of watcher) {
      if (resp.events.some((e) => e.type === 'delete')) return;
      if (resp.canceled) break;
    }
  } finally {
    member.cancelWatch(watcher.id);
  }
  signal.throwIfAborted();
  throw new Error('lost watcher waiting for delete');
}

/** clientv3/concurrency's waitDeletes: until no key of the prefix has create revision <= maxCreateRev. */
export async function waitDeletes(member: KvMember, pfx: Uint8Array, maxCreateRev: number, signal: AbortSignal): Promise<ResponseHeader> {
  for (;;) {
    const resp = await member.range(
      { ...prefixRange(pfx), sortTarget: 'create', sortOrder: 'descend', limit: 1, maxCreateRevision: maxCreateRev },
      { signal },
    );
    const last = resp.kvs[0];
    if (last === undefined) return resp.header;
    await waitDelete(member, last.key, resp.header.revision, signal);
  }
}

/** concurrency.Mutex.Lock on `<name>/`; resolves with the lock's key and the header etcd returns. */
export async function lock(member: KvMember, name: Uint8Array, lease: bigint, signal: AbortSignal): Promise<{ key: Uint8Array; header: ResponseHeader }> {
  const pfx = concat(name, encoder.encode('/'));
  const myKey = sessionKey(pfx, lease);
  const getOwner = { range: { ...prefixRange(pfx), sortTarget: 'create' as const, sortOrder: 'ascend' as const, limit: 1 } };
  const resp = await member.txn(
    {
      compare: [{ key: myKey, target: 'create', createRevision: 0, result: 'equal' }],
      success: [{ put: { key: myKey, value: new Uint8Array(0), lease } }, getOwner],
      failure: [{ range: { key: myKey } }, getOwner],
    },
    { signal },
  );
  let myRev = resp.header.revision;
  if (!resp.succeeded) myRev = rangeOf(resp.responses[0]).kvs[0]!.createRevision;
  const owner = rangeOf(resp.responses[1]).kvs;
  if (owner.length === 0 || owner[0]!.createRevision === myRev) return { key: myKey, header: resp.header };
  try {
    return { key: myKey, header: await waitDeletes(member, pfx, myRev - 1, signal) };
  } catch (err) {
    // Release the key if the wait failed (the caller left or the lease went away).
    await member.deleteRange({ key: myKey }).catch(() => undefined);
    throw err;
  }
}

function rangeOf(op: { range: RangeResponse } | object | undefined): RangeResponse {
  if (op !== undefined && 'range' in op) return op.range;
  throw new Error('txn response op is not a range');
}

/** The leader key of an election as the v3election service names it. */
export interface LeaderKey {
  name: Uint8Array;
  key: Uint8Array;
  rev: number;
  lease: bigint;
}

/** concurrency.Election.Campaign: waits until this candidate leads `<name>/`. */
export async function campaign(member: KvMember, name: Uint8Array, lease: bigint, value: Uint8Array, signal: AbortSignal): Promise<{ leader: LeaderKey; header: ResponseHeader }> {
  const pfx = concat(name, encoder.encode('/'));
  const key = sessionKey(pfx, lease);
  const resp = await member.txn(
    {
      compare: [{ key, target: 'create', createRevision: 0, result: 'equal' }],
      success: [{ put: { key, value, lease } }],
      failure: [{ range: { key } }],
    },
    { signal },
  );
  const leader: LeaderKey = { name, key, rev: resp.header.revision, lease };
  if (!resp.succeeded) {
    const kv = rangeOf(resp.responses[0]).kvs[0]!;
    leader.rev = kv.createRevision;
    if (Buffer.compare(Buffer.from(kv.value), Buffer.from(value)) !== 0) {
      try {
        await proclaim(member, leader, value, signal);
      } catch (err) {
        await resign(member, leader, new AbortController().signal).catch(() => undefined);
        throw err;
      }
    }
  }
  try {
    await waitDeletes(member, pfx, leader.rev - 1, signal);
  } catch (err) {
    if (signal.aborted) await resign(member, leader, new AbortController().signal).catch(() => undefined);
    throw err;
  }
  return { leader, header: resp.header };
}

/** concurrency.Election.Proclaim: a new value, only while `leader` still holds its key. */
export async function proclaim(member: KvMember, leader: LeaderKey, value: Uint8Array, signal: AbortSignal): Promise<ResponseHeader> {
  const resp = await member.txn(
    {
      compare: [{ key: leader.key, target: 'create', createRevision: leader.rev, result: 'equal' }],
      success: [{ put: { key: leader.key, value, lease: leader.lease } }],
      failure: [],
    },
    { signal },
  );
  if (!resp.succeeded) throw new EtcdError('ElectionNotLeader');
  return resp.header;
}

/** concurrency.Election.Resign: deletes the leader key if it is still this leader's. */
export async function resign(member: KvMember, leader: LeaderKey, signal: AbortSignal): Promise<ResponseHeader> {
  const resp = await member.txn(
    {
      compare: [{ key: leader.key, target: 'create', createRevision: leader.rev, result: 'equal' }],
      success: [{ deleteRange: { key: leader.key } }],
      failure: [],
    },
    { signal },
  );
  return resp.header;
}

/** concurrency.Election.Leader: the key of the prefix created first, or ErrElectionNoLeader. */
export async function electionLeader(member: KvMember, name: Uint8Array, signal: AbortSignal): Promise<{ kv: KeyValue; header: ResponseHeader }> {
  const resp = await firstCreate(member, concat(name, encoder.encode('/')), signal);
  const kv = resp.kvs[0];
  if (kv === undefined) throw new EtcdError('ElectionNoLeader');
  return { kv, header: resp.header };
}

/**
 * concurrency.Election.Observe: the current leader's value, then each new value it proclaims;
 * when it resigns or its lease expires, the next leader's. Ends when `signal` aborts.
 */
export async function observe(
  member: KvMember,
  name: Uint8Array,
  signal: AbortSignal,
  send: (kv: KeyValue, header: ResponseHeader) => void,
): Promise<void> {
  const pfx = concat(name, encoder.encode('/'));
  while (!signal.aborted) {
    const resp = await firstCreate(member, pfx, signal);
    let kv = resp.kvs[0];
    let header: ResponseHeader = resp.header;
    if (kv === undefined) {
      // Wait for the first put on the prefix; a delete alone would make us spin.
      const w = member.watch(pfx, { prefix: true, startRevision: resp.header.revision, signal });
      try {
        for await (const wr of w) {
          const put = wr.events.find((e) => e.type === 'put');
          if (put !== undefined) {
            kv = put.kv;
            header = { ...resp.header, revision: put.kv.modRevision };
            break;
          }
          if (wr.canceled) return;
        }
      } finally {
        member.cancelWatch(w.id);
      }
      if (kv === undefined) return;
    }
    send(kv, header);
    const w = member.watch(kv.key, { startRevision: header.revision + 1, signal });
    try {
      let deleted = false;
      for await (const wr of w) {
        for (const ev of wr.events) {
          if (ev.type === 'delete') {
            deleted = true;
            break;
          }
          send(ev.kv, { ...header, revision: wr.revision });
        }
        if (deleted || wr.canceled) break;
      }
      if (!deleted) return;
    } finally {
      member.cancelWatch(w.id);
    }
  }
}
