/**
 * Request checks made before anything is applied (etcd's v3rpc checkRangeRequest,
 * checkPutRequest, checkTxnRequest and checkIntervals), plus the checks that etcd gets from
 * protobuf's types (bytes are bytes, numbers are integers) and a few that this store adds for bad
 * input: a range end below the key, a negative limit or revision. A request that fails any check
 * changes nothing.
 */
import { compareBytes } from './bytes.js';
import {
  DuplicateKeyError,
  InvalidRequestError,
  KeyNotProvidedError,
  LeaseProvidedError,
  RequestTooLargeError,
  TooManyOperationsError,
  ValueProvidedError,
} from './errors.js';
import type { Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types.js';

/** etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;
/** etcd's default --max-request-bytes (1.5 MiB). */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The range a request names: undefined for the single key, empty for "every key from `key` on"
 * (a range end of "\0", etcd's mkGteRange), else the exclusive end.
 */
export function rangeEndOf(rangeEnd: Uint8Array | undefined): Uint8Array | undefined {
  if (rangeEnd === undefined || rangeEnd.length === 0) return undefined;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return new Uint8Array(0);
  return rangeEnd;
}

function checkKey(key: unknown, field: string): void {
  if (key === undefined || key === null) throw new KeyNotProvidedError();
  if (!(key instanceof Uint8Array)) throw new InvalidRequestError(field, 'must be a Uint8Array');
  if (key.length === 0) throw new KeyNotProvidedError();
}

/** A range end below the key is an empty range, as in etcd (which answers no kvs). */
function checkRangeEnd(rangeEnd: unknown, field: string): void {
  if (rangeEnd !== undefined && !(rangeEnd instanceof Uint8Array)) throw new InvalidRequestError(field, 'must be a Uint8Array');
}

function checkInt(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidRequestError(field, `must be a safe integer, got ${String(value)}`);
  }
}

function checkOptionalInt(value: unknown, field: string): void {
  if (value !== undefined) checkInt(value, field);
}

function checkLeaseId(value: unknown, field: string): void {
  if (value === undefined) return;
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) {
    throw new InvalidRequestError(field, 'must be a bigint in int64 range');
  }
}

function checkFlag(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidRequestError(field, 'must be a boolean');
}

const SORT_ORDERS = new Set(['none', 'ascend', 'descend']);
const SORT_TARGETS = new Set(['key', 'version', 'create', 'mod', 'value']);

export function checkRangeRequest(r: RangeRequest): void {
  checkKey(r.key, 'range.key');
  checkRangeEnd(r.rangeEnd, 'range.rangeEnd');
  // etcd takes any int64 here: a limit or revision of 0 or less means none (all, the latest);
  // a filter applies whenever it is not 0, so a negative maximum leaves no kv (the count stays).
  checkOptionalInt(r.limit, 'range.limit');
  checkOptionalInt(r.revision, 'range.revision');
  checkOptionalInt(r.minModRevision, 'range.minModRevision');
  checkOptionalInt(r.maxModRevision, 'range.maxModRevision');
  checkOptionalInt(r.minCreateRevision, 'range.minCreateRevision');
  checkOptionalInt(r.maxCreateRevision, 'range.maxCreateRevision');
  if (r.sortOrder !== undefined && !SORT_ORDERS.has(r.sortOrder)) throw new InvalidRequestError('range.sortOrder', String(r.sortOrder));
  if (r.sortTarget !== undefined && !SORT_TARGETS.has(r.sortTarget)) throw new InvalidRequestError('range.sortTarget', String(r.sortTarget));
  checkFlag(r.keysOnly, 'range.keysOnly');
  checkFlag(r.countOnly, 'range.countOnly');
}

export function checkPutRequest(r: PutRequest): void {
  checkKey(r.key, 'put.key');
  if (!(r.value instanceof Uint8Array)) throw new InvalidRequestError('put.value', 'must be a Uint8Array');
  checkLeaseId(r.lease, 'put.lease');
  checkFlag(r.prevKv, 'put.prevKv');
  checkFlag(r.ignoreValue, 'put.ignoreValue');
  checkFlag(r.ignoreLease, 'put.ignoreLease');
  if (r.ignoreValue === true && r.value.length !== 0) throw new ValueProvidedError();
  if (r.ignoreLease === true && r.lease !== undefined && r.lease !== 0n) throw new LeaseProvidedError();
}

export function checkDeleteRequest(r: DeleteRangeRequest): void {
  checkKey(r.key, 'deleteRange.key');
  checkRangeEnd(r.rangeEnd, 'deleteRange.rangeEnd');
  checkFlag(r.prevKv, 'deleteRange.prevKv');
}

const COMPARE_RESULTS = new Set(['equal', 'notEqual', 'greater', 'less']);

function checkCompare(c: Compare): void {
  checkKey(c.key, 'compare.key');
  checkRangeEnd(c.rangeEnd, 'compare.rangeEnd');
  if (!COMPARE_RESULTS.has(c.result)) throw new InvalidRequestError('compare.result', String(c.result));
  switch (c.target) {
    case 'version':
      return checkInt(c.version, 'compare.version');
    case 'create':
      return checkInt(c.createRevision, 'compare.createRevision');
    case 'mod':
      return checkInt(c.modRevision, 'compare.modRevision');
    case 'value':
      if (!(c.value instanceof Uint8Array)) throw new InvalidRequestError('compare.value', 'must be a Uint8Array');
      return;
    case 'lease':
      if (typeof c.lease !== 'bigint') throw new InvalidRequestError('compare.lease', 'must be a bigint');
      return;
    default:
      throw new InvalidRequestError('compare.target', String((c as { target: unknown }).target));
  }
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  if (typeof op !== 'object' || op === null) throw new InvalidRequestError('txn.op', 'must be an object');
  if ('range' in op) return checkRangeRequest(op.range);
  if ('put' in op) return checkPutRequest(op.put);
  if ('deleteRange' in op) return checkDeleteRequest(op.deleteRange);
  if ('txn' in op) return checkTxnRequest(op.txn, maxTxnOps);
  throw new InvalidRequestError('txn.op', 'names no operation (range, put, deleteRange or txn)');
}

/**
 * etcd's checkTxnRequest: the widest of compares, success and failure may not exceed the limit,
 * and a nested txn gets what its parent left of it.
 */
export function checkTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  if (typeof r !== 'object' || r === null) throw new InvalidRequestError('txn', 'must be an object');
  if (!Array.isArray(r.compare) || !Array.isArray(r.success) || !Array.isArray(r.failure)) {
    throw new InvalidRequestError('txn', 'compare, success and failure must be arrays');
  }
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw new TooManyOperationsError(maxTxnOps);
  for (const c of r.compare) checkCompare(c);
  for (const op of r.success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of r.failure) checkRequestOp(op, maxTxnOps - opc);
}

/** A delete's interval with etcd's "affine" ends: an empty end is +infinity. */
interface Interval {
  begin: Uint8Array;
  end: Uint8Array;
}

function affineLess(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length === 0) return false;
  if (b.length === 0) return true;
  return compareBytes(a, b) < 0;
}

/** Whether a delete interval covers `key` (intersects etcd's point interval [key, key+"\0")). */
function covers(dels: readonly Interval[], key: Uint8Array): boolean {
  const after = new Uint8Array(key.length + 1);
  after.set(key);
  return dels.some((iv) => affineLess(iv.begin, after) && affineLess(key, iv.end));
}

function keyId(key: Uint8Array): string {
  return Buffer.from(key).toString('latin1');
}

/**
 * etcd's checkIntervals: within one branch, no key may be put twice or put and deleted, looking
 * into nested txns. then and else of one nested txn may put the same key (only one runs). The
 * quirks are etcd's: a delete in a later nested txn does not conflict with a put in an earlier one.
 */
export function checkIntervals(reqs: readonly RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const req of reqs) {
    if (!('deleteRange' in req)) continue;
    const d = req.deleteRange;
    if (d.rangeEnd !== undefined && d.rangeEnd.length !== 0) {
      dels.push({ begin: d.key, end: d.rangeEnd });
    } else {
      const after = new Uint8Array(d.key.length + 1);
      after.set(d.key);
      dels.push({ begin: d.key, end: after });
    }
  }
  const puts = new Set<string>();
  for (const req of reqs) {
    if (!('txn' in req)) continue;
    const then = checkIntervals(req.txn.success);
    const otherwise = checkIntervals(req.txn.failure);
    for (const k of then.puts) {
      if (puts.has(k) || covers(dels, Buffer.from(k, 'latin1'))) throw new DuplicateKeyError();
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw new DuplicateKeyError();
      if (covers(dels, Buffer.from(k, 'latin1'))) throw new DuplicateKeyError();
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const req of reqs) {
    if (!('put' in req)) continue;
    const k = keyId(req.put.key);
    if (puts.has(k) || covers(dels, req.put.key)) throw new DuplicateKeyError();
    puts.add(k);
  }
  return { puts, dels };
}

/** The bytes a request carries (keys, values, range ends, compare operands), for the size limit. */
export function requestBytes(op: RequestOp): number {
  if ('range' in op) return op.range.key.length + (op.range.rangeEnd?.length ?? 0);
  if ('put' in op) return op.put.key.length + op.put.value.length;
  if ('deleteRange' in op) return op.deleteRange.key.length + (op.deleteRange.rangeEnd?.length ?? 0);
  let total = 0;
  for (const c of op.txn.compare) total += c.key.length + (c.rangeEnd?.length ?? 0) + (c.target === 'value' ? c.value.length : 0);
  for (const o of op.txn.success) total += requestBytes(o);
  for (const o of op.txn.failure) total += requestBytes(o);
  return total;
}

export function checkRequestSize(op: RequestOp, maxRequestBytes: number): void {
  const size = requestBytes(op);
  if (size > maxRequestBytes) throw new RequestTooLargeError(size, maxRequestBytes);
}
