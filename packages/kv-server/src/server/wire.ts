/**
 * Conversions between etcd's wire messages (as @grpc/proto-loader decodes them with
 * PROTO_LOADER_OPTIONS: snake_case fields, 64-bit numbers as decimal strings, enums as names)
 * and @pontoon/kv's requests and responses. Proto3 has no "absent" for scalars: an empty
 * range_end is the single key and a zero lease is none, as etcd reads them.
 */
import { InvalidRequestError } from '@pontoon/kv';
import type {
  Compare,
  DeleteRangeRequest,
  KeyValue,
  PutRequest,
  RangeRequest,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResponse,
  RangeResponse,
  PutResponse,
  DeleteRangeResponse,
} from '@pontoon/kv';
import type { Compare__Output } from '../proto-types/etcdserverpb/Compare.js';
import type { DeleteRangeRequest__Output } from '../proto-types/etcdserverpb/DeleteRangeRequest.js';
import type { DeleteRangeResponse as WireDeleteRangeResponse } from '../proto-types/etcdserverpb/DeleteRangeResponse.js';
import type { PutRequest__Output } from '../proto-types/etcdserverpb/PutRequest.js';
import type { PutResponse as WirePutResponse } from '../proto-types/etcdserverpb/PutResponse.js';
import type { RangeRequest__Output } from '../proto-types/etcdserverpb/RangeRequest.js';
import type { RangeResponse as WireRangeResponse } from '../proto-types/etcdserverpb/RangeResponse.js';
import type { RequestOp__Output } from '../proto-types/etcdserverpb/RequestOp.js';
import type { ResponseHeader as WireHeader } from '../proto-types/etcdserverpb/ResponseHeader.js';
import type { ResponseOp as WireResponseOp } from '../proto-types/etcdserverpb/ResponseOp.js';
import type { TxnRequest__Output } from '../proto-types/etcdserverpb/TxnRequest.js';
import type { TxnResponse as WireTxnResponse } from '../proto-types/etcdserverpb/TxnResponse.js';
import type { KeyValue as WireKeyValue } from '../proto-types/mvccpb/KeyValue.js';

/** What fills every header: the cluster's and this member's etcd ids. */
export interface HeaderIds {
  readonly clusterId: bigint;
  memberId(): bigint;
}

export function wireHeader(ids: HeaderIds, h: ResponseHeader): WireHeader {
  return {
    cluster_id: ids.clusterId.toString(),
    member_id: ids.memberId().toString(),
    revision: h.revision,
    raft_term: h.raftTerm ?? 0,
  };
}

/** A 64-bit revision, count or TTL as a JS number; beyond 2^53 it is refused, not rounded. */
export function int(field: string, s: string | undefined): number {
  if (s === undefined || s === '') return 0;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new InvalidRequestError(field, `${s} is out of range`);
  return n;
}

/** An int64 lease id (etcd ids are signed 64-bit on the wire). */
export function leaseId(s: string | undefined): bigint {
  return s === undefined || s === '' ? 0n : BigInt(s);
}

function rangeEnd(b: Buffer | undefined): { rangeEnd?: Uint8Array } {
  return b === undefined || b.length === 0 ? {} : { rangeEnd: b };
}

const SORT_ORDER: Record<string, SortOrder> = { NONE: 'none', ASCEND: 'ascend', DESCEND: 'descend' };
const SORT_TARGET: Record<string, SortTarget> = { KEY: 'key', VERSION: 'version', CREATE: 'create', MOD: 'mod', VALUE: 'value' };

function enumValue<T>(table: Record<string, T>, field: string, v: string | number): T {
  const out = table[String(v)];
  if (out === undefined) throw new InvalidRequestError(field, `unknown value ${String(v)}`);
  return out;
}

export function rangeRequest(r: RangeRequest__Output): RangeRequest {
  return {
    key: r.key,
    ...rangeEnd(r.range_end),
    limit: int('range.limit', r.limit),
    revision: int('range.revision', r.revision),
    sortOrder: enumValue(SORT_ORDER, 'range.sort_order', r.sort_order),
    sortTarget: enumValue(SORT_TARGET, 'range.sort_target', r.sort_target),
    keysOnly: r.keys_only,
    countOnly: r.count_only,
    minModRevision: int('range.min_mod_revision', r.min_mod_revision),
    maxModRevision: int('range.max_mod_revision', r.max_mod_revision),
    minCreateRevision: int('range.min_create_revision', r.min_create_revision),
    maxCreateRevision: int('range.max_create_revision', r.max_create_revision),
  };
}

export function putRequest(r: PutRequest__Output): PutRequest {
  return {
    key: r.key,
    value: r.value,
    lease: leaseId(r.lease),
    prevKv: r.prev_kv,
    ignoreValue: r.ignore_value,
    ignoreLease: r.ignore_lease,
  };
}

export function deleteRangeRequest(r: DeleteRangeRequest__Output): DeleteRangeRequest {
  return { key: r.key, ...rangeEnd(r.range_end), prevKv: r.prev_kv };
}

const COMPARE_RESULT = { EQUAL: 'equal', NOT_EQUAL: 'notEqual', GREATER: 'greater', LESS: 'less' } as const;

function compare(c: Compare__Output): Compare {
  const base = { key: c.key, ...rangeEnd(c.range_end), result: enumValue<Compare['result']>(COMPARE_RESULT, 'compare.result', c.result) };
  // etcd reads the operand that `target` names; an unset oneof reads as its zero value.
  switch (String(c.target)) {
    case 'VERSION':
      return { ...base, target: 'version', version: int('compare.version', c.version) };
    case 'CREATE':
      return { ...base, target: 'create', createRevision: int('compare.create_revision', c.create_revision) };
    case 'MOD':
      return { ...base, target: 'mod', modRevision: int('compare.mod_revision', c.mod_revision) };
    case 'VALUE':
      return { ...base, target: 'value', value: c.value ?? Buffer.alloc(0) };
    case 'LEASE':
      return { ...base, target: 'lease', lease: leaseId(c.lease) };
    default:
      throw new InvalidRequestError('compare.target', `unknown value ${String(c.target)}`);
  }
}

function requestOp(op: RequestOp__Output): RequestOp {
  switch (op.request) {
    case 'request_range':
      return { range: rangeRequest(op.request_range!) };
    case 'request_put':
      return { put: putRequest(op.request_put!) };
    case 'request_delete_range':
      return { deleteRange: deleteRangeRequest(op.request_delete_range!) };
    case 'request_txn':
      return { txn: txnRequest(op.request_txn!) };
    default:
      // etcd's applier panics on an empty RequestOp; refusing it is the survivable reading.
      throw new InvalidRequestError('txn.op', 'a request op without a request');
  }
}

export function txnRequest(r: TxnRequest__Output): TxnRequest {
  return { compare: r.compare.map(compare), success: r.success.map(requestOp), failure: r.failure.map(requestOp) };
}

export function wireKeyValue(kv: KeyValue): WireKeyValue {
  return {
    key: Buffer.from(kv.key.buffer, kv.key.byteOffset, kv.key.byteLength),
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength),
    lease: kv.lease.toString(),
  };
}

export function wireRangeResponse(ids: HeaderIds, r: RangeResponse): WireRangeResponse {
  return { header: wireHeader(ids, r.header), kvs: r.kvs.map(wireKeyValue), more: r.more, count: r.count };
}

export function wirePutResponse(ids: HeaderIds, r: PutResponse): WirePutResponse {
  return { header: wireHeader(ids, r.header), ...(r.prevKv === undefined ? {} : { prev_kv: wireKeyValue(r.prevKv) }) };
}

export function wireDeleteRangeResponse(ids: HeaderIds, r: DeleteRangeResponse): WireDeleteRangeResponse {
  return { header: wireHeader(ids, r.header), deleted: r.deleted, prev_kvs: r.prevKvs.map(wireKeyValue) };
}

/** etcd fills only the revision in the headers of a txn's own responses. */
const NESTED: HeaderIds = { clusterId: 0n, memberId: () => 0n };

function nested<T extends { header: ResponseHeader }>(r: T): T {
  return { ...r, header: { revision: r.header.revision } };
}

function wireResponseOp(op: ResponseOp): WireResponseOp {
  if ('range' in op) return { response_range: wireRangeResponse(NESTED, nested(op.range)) };
  if ('put' in op) return { response_put: wirePutResponse(NESTED, nested(op.put)) };
  if ('deleteRange' in op) return { response_delete_range: wireDeleteRangeResponse(NESTED, nested(op.deleteRange)) };
  return { response_txn: wireTxnResponse(NESTED, nested(op.txn)) };
}

export function wireTxnResponse(ids: HeaderIds, r: TxnResponse): WireTxnResponse {
  return { header: wireHeader(ids, r.header), succeeded: r.succeeded, responses: r.responses.map(wireResponseOp) };
}
