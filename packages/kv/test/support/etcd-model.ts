/**
 * A small reference model of etcd 3.4's KV semantics: the whole key space at every revision (a
 * map per revision), leases as sets of keys. Nothing like the store's design (no key index, no
 * generations, no SQL), so that the property test compares two independent readings of etcd.
 * Request validation (bad input, duplicate keys in a txn, the operation limit) is the store's
 * own `validate` module, run first: the model is about what valid requests do.
 */
import {
  CompactedError,
  FutureRevisionError,
  KeyNotFoundError,
  LeaseExistsError,
  LeaseNotFoundError,
  LeaseTtlTooLargeError,
  MAX_LEASE_TTL,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from '../../src/index.js';
import {
  DEFAULT_MAX_TXN_OPS,
  checkDeleteRequest,
  checkIntervals,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
} from '../../src/validate.js';

type State = Map<string, KeyValue>;

const id = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const cmp = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);

/** Whether `key` is in the range a request names (etcd: no end = one key, "\0" = to the end). */
function inRange(key: Uint8Array, from: Uint8Array, rangeEnd: Uint8Array | undefined): boolean {
  if (rangeEnd === undefined || rangeEnd.length === 0) return cmp(key, from) === 0;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return cmp(key, from) >= 0;
  return cmp(key, from) >= 0 && cmp(key, rangeEnd) < 0;
}

function keysIn(state: State, from: Uint8Array, rangeEnd: Uint8Array | undefined): KeyValue[] {
  return [...state.values()].filter((kv) => inRange(kv.key, from, rangeEnd)).sort((a, b) => cmp(a.key, b.key));
}

/** A write in progress: the revision it starts from and the key space it is building. */
interface WriteCtx {
  base: number;
  state: State;
  changed: boolean;
}

export class EtcdModel {
  rev = 1;
  compactRev = -1;
  private readonly states = new Map<number, State>([[1, new Map()]]);
  readonly leases = new Map<bigint, { ttl: number; keys: Set<string> }>();
  private nextLeaseId = 1n;

  constructor(private readonly minLeaseTtl = 2) {}

  current(): State {
    return this.states.get(this.rev)!;
  }

  range(r: RangeRequest): RangeResponse {
    checkRangeRequest(r);
    const rev = r.revision ?? 0;
    if (rev > this.rev) throw new FutureRevisionError(this.rev, rev);
    const at = rev === 0 ? this.rev : rev;
    if (at < this.compactRev) throw new CompactedError(this.compactRev, at);
    return this.rangeOn(this.states.get(at)!, r, this.rev);
  }

  private rangeOn(state: State, r: RangeRequest, headerRev: number): RangeResponse {
    const all = keysIn(state, r.key, r.rangeEnd);
    if (r.countOnly === true) return { header: { revision: headerRev }, kvs: [], more: false, count: all.length };
    let kvs = all.filter(
      (kv) =>
        (!r.minModRevision || kv.modRevision >= r.minModRevision) &&
        (!r.maxModRevision || kv.modRevision <= r.maxModRevision) &&
        (!r.minCreateRevision || kv.createRevision >= r.minCreateRevision) &&
        (!r.maxCreateRevision || kv.createRevision <= r.maxCreateRevision),
    );
    const target = r.sortTarget ?? 'key';
    const order = r.sortOrder ?? 'none';
    const by = (a: KeyValue, b: KeyValue): number => {
      switch (target) {
        case 'key':
          return cmp(a.key, b.key);
        case 'value':
          return cmp(a.value, b.value);
        case 'version':
          return a.version - b.version;
        case 'create':
          return a.createRevision - b.createRevision;
        case 'mod':
          return a.modRevision - b.modRevision;
      }
    };
    if (order === 'descend') kvs.sort((a, b) => by(b, a));
    else if (order === 'ascend' || target !== 'key') kvs.sort(by);
    const limit = r.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs = kvs.slice(0, limit);
    if (r.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: new Uint8Array(0) }));
    return { header: { revision: headerRev }, kvs, more, count: all.length };
  }

  private begin(): WriteCtx {
    return { base: this.rev, state: new Map(this.current()), changed: false };
  }

  private commit(ctx: WriteCtx): void {
    if (!ctx.changed) return;
    this.rev = ctx.base + 1;
    this.states.set(this.rev, ctx.state);
  }

  put(p: PutRequest): PutResponse {
    checkPutRequest(p);
    const lease = p.lease ?? 0n;
    if (lease !== 0n && !this.leases.has(lease)) throw new LeaseNotFoundError(lease);
    if ((p.ignoreValue || p.ignoreLease) && !this.current().has(id(p.key))) throw new KeyNotFoundError();
    const ctx = this.begin();
    const resp = this.putIn(ctx, p);
    this.commit(ctx);
    return resp;
  }

  private putIn(ctx: WriteCtx, p: PutRequest): PutResponse {
    const k = id(p.key);
    const prev = ctx.state.get(k);
    const rev = ctx.base + 1;
    const value = p.ignoreValue ? prev!.value : p.value;
    const lease = p.ignoreLease ? prev!.lease : (p.lease ?? 0n);
    if (prev !== undefined && prev.lease !== 0n) this.leases.get(prev.lease)?.keys.delete(k);
    if (lease !== 0n) this.leases.get(lease)!.keys.add(k);
    ctx.state.set(k, {
      key: Uint8Array.from(p.key),
      createRevision: prev?.createRevision ?? rev,
      modRevision: rev,
      version: (prev?.version ?? 0) + 1,
      value: Uint8Array.from(value),
      lease,
    });
    ctx.changed = true;
    const resp: PutResponse = { header: { revision: rev } };
    if (p.prevKv && prev !== undefined) resp.prevKv = prev;
    return resp;
  }

  deleteRange(d: DeleteRangeRequest): DeleteRangeResponse {
    checkDeleteRequest(d);
    const ctx = this.begin();
    const resp = this.deleteIn(ctx, d);
    this.commit(ctx);
    return resp;
  }

  private deleteIn(ctx: WriteCtx, d: DeleteRangeRequest): DeleteRangeResponse {
    const gone = keysIn(ctx.state, d.key, d.rangeEnd);
    for (const kv of gone) {
      ctx.state.delete(id(kv.key));
      if (kv.lease !== 0n) this.leases.get(kv.lease)?.keys.delete(id(kv.key));
    }
    if (gone.length > 0) ctx.changed = true;
    return { header: { revision: ctx.changed ? ctx.base + 1 : ctx.base }, deleted: gone.length, prevKvs: d.prevKv ? gone : [] };
  }

  private holds(c: Compare): boolean {
    const kvs = keysIn(this.current(), c.key, c.rangeEnd);
    if (kvs.length === 0 && c.target === 'value') return false;
    const subjects = kvs.length === 0 ? [undefined] : kvs;
    return subjects.every((kv) => {
      let d: number;
      switch (c.target) {
        case 'value':
          d = cmp(kv!.value, c.value);
          break;
        case 'version':
          d = (kv?.version ?? 0) - c.version;
          break;
        case 'create':
          d = (kv?.createRevision ?? 0) - c.createRevision;
          break;
        case 'mod':
          d = (kv?.modRevision ?? 0) - c.modRevision;
          break;
        case 'lease': {
          const l = kv?.lease ?? 0n;
          d = l === c.lease ? 0 : l < c.lease ? -1 : 1;
          break;
        }
      }
      return c.result === 'equal' ? d === 0 : c.result === 'notEqual' ? d !== 0 : c.result === 'greater' ? d > 0 : d < 0;
    });
  }

  /** The ops a txn will run, with their nested txns' choices, decided before anything runs. */
  private plan(t: TxnRequest): { succeeded: boolean; ops: { op: ResponseOpPlan }[] } {
    const succeeded = t.compare.every((c) => this.holds(c));
    const ops = (succeeded ? t.success : t.failure).map((op) => ({ op: 'txn' in op ? { txn: this.plan(op.txn) } : op }));
    return { succeeded, ops };
  }

  txn(t: TxnRequest): TxnResponse {
    checkTxnRequest(t, DEFAULT_MAX_TXN_OPS);
    checkIntervals(t.success);
    checkIntervals(t.failure);
    const plan = this.plan(t);
    const flat: Exclude<ResponseOpPlan, { txn: unknown }>[] = [];
    const walk = (p: TxnPlan): void => p.ops.forEach(({ op }) => ('txn' in op ? walk(op.txn) : flat.push(op)));
    walk(plan);
    const writes = t.success.some((op) => !('range' in op)) || t.failure.some((op) => !('range' in op));
    if (writes) {
      for (const op of flat) {
        if (!('put' in op)) continue;
        if ((op.put.ignoreValue || op.put.ignoreLease) && !this.current().has(id(op.put.key))) throw new KeyNotFoundError();
        const lease = op.put.lease ?? 0n;
        if (lease !== 0n && !this.leases.has(lease)) throw new LeaseNotFoundError(lease);
      }
    }
    for (const op of flat) {
      if (!('range' in op) || !op.range.revision) continue;
      if (op.range.revision > this.rev) throw new FutureRevisionError(this.rev, op.range.revision);
      if (op.range.revision < this.compactRev) throw new CompactedError(this.compactRev, op.range.revision);
    }
    const ctx = this.begin();
    const run = (p: TxnPlan, headerRev: number): TxnResponse => {
      const responses: ResponseOp[] = [];
      for (const { op } of p.ops) {
        if ('range' in op) {
          const rev = op.range.revision ?? 0;
          const state = rev === 0 ? ctx.state : this.states.get(rev)!;
          responses.push({ range: this.rangeOn(state, op.range, ctx.changed ? ctx.base + 1 : ctx.base) });
        } else if ('put' in op) responses.push({ put: this.putIn(ctx, op.put) });
        else if ('deleteRange' in op) responses.push({ deleteRange: this.deleteIn(ctx, op.deleteRange) });
        else responses.push({ txn: run(op.txn, 0) });
      }
      return { header: { revision: headerRev }, succeeded: p.succeeded, responses };
    };
    const resp = run(plan, 0);
    this.commit(ctx);
    resp.header.revision = this.rev;
    return resp;
  }

  compact(revision: number): { header: { revision: number } } {
    if (revision <= this.compactRev) throw new CompactedError(this.compactRev, revision);
    if (revision > this.rev) throw new FutureRevisionError(this.rev, revision);
    this.compactRev = revision;
    for (const rev of [...this.states.keys()]) if (rev < revision) this.states.delete(rev);
    return { header: { revision: this.rev } };
  }

  leaseGrant(requested: bigint, ttl: number): { header: { revision: number }; id: bigint; ttl: number } {
    if (ttl > MAX_LEASE_TTL) throw new LeaseTtlTooLargeError(ttl);
    let leaseId = requested;
    if (leaseId === 0n) {
      while (this.leases.has(this.nextLeaseId)) this.nextLeaseId++;
      leaseId = this.nextLeaseId++;
    } else if (this.leases.has(leaseId)) {
      throw new LeaseExistsError(leaseId);
    }
    const granted = Math.max(ttl, this.minLeaseTtl);
    this.leases.set(leaseId, { ttl: granted, keys: new Set() });
    return { header: { revision: this.rev }, id: leaseId, ttl: granted };
  }

  leaseRevoke(leaseId: bigint): { header: { revision: number } } {
    const lease = this.leases.get(leaseId);
    if (lease === undefined) throw new LeaseNotFoundError(leaseId);
    const ctx = this.begin();
    for (const k of [...lease.keys].sort()) this.deleteIn(ctx, { key: Buffer.from(k, 'latin1') });
    this.leases.delete(leaseId);
    this.commit(ctx);
    return { header: { revision: this.rev } };
  }
}

type ResponseOpPlan = { range: RangeRequest } | { put: PutRequest } | { deleteRange: DeleteRangeRequest } | { txn: TxnPlan };
interface TxnPlan {
  succeeded: boolean;
  ops: { op: ResponseOpPlan }[];
}
