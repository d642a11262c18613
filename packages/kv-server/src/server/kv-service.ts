/**
 * etcd's KV service (v3rpc/key.go) on a KvMember: Range, Put, DeleteRange, Txn, Compact. Writes
 * larger than --max-request-bytes are refused before they reach the log, as etcd refuses the
 * proposal.
 */
import { RequestTooLargeError } from '@pontoon/kv';
import type { KVHandlers } from '../proto-types/etcdserverpb/KV.js';
import { loadEtcdProtos } from '../etcd-protos.js';
import { type ServerContext, unary } from './call-context.js';
import {
  deleteRangeRequest,
  int,
  putRequest,
  rangeRequest,
  txnRequest,
  wireDeleteRangeResponse,
  wireHeader,
  wirePutResponse,
  wireRangeResponse,
  wireTxnResponse,
} from './wire.js';

export function kvService(ctx: ServerContext): KVHandlers {
  const { member, header } = ctx;
  const defs = loadEtcdProtos().services.KV;
  const checkSize = (size: number): void => {
    if (size > ctx.maxRequestBytes) throw new RequestTooLargeError(size, ctx.maxRequestBytes);
  };
  return {
    Range: unary(
      ctx,
      'Range',
      async (r, signal) => wireRangeResponse(header, await member.range(rangeRequest(r), { signal, serializable: r.serializable })),
      (r) => r.serializable,
    ),
    Put: unary(ctx, 'Put', async (r, signal) => {
      checkSize(r.key.length + r.value.length);
      return wirePutResponse(header, await member.put(r.key, r.value, { ...putOptions(r), signal }));
    }),
    DeleteRange: unary(ctx, 'DeleteRange', async (r, signal) =>
      wireDeleteRangeResponse(header, await member.deleteRange(deleteRangeRequest(r), { signal })),
    ),
    Txn: unary(ctx, 'Txn', async (r, signal) => {
      checkSize(defs.Txn.requestSerialize(r).length);
      return wireTxnResponse(header, await member.txn(txnRequest(r), { signal }));
    }),
    Compact: unary(ctx, 'Compact', async (r, signal) => {
      const res = await member.compact(int('compact.revision', r.revision), { signal, physical: r.physical });
      return { header: wireHeader(header, res.header) };
    }),
  };
}

function putOptions(r: Parameters<typeof putRequest>[0]): { lease: bigint; prevKv: boolean; ignoreValue: boolean; ignoreLease: boolean } {
  const { lease = 0n, prevKv = false, ignoreValue = false, ignoreLease = false } = putRequest(r);
  return { lease, prevKv, ignoreValue, ignoreLease };
}
