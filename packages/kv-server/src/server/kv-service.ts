/**
 * etcd's KV service (v3rpc/key.go) on a KvMember: Range, Put, DeleteRange, Txn, Compact. Writes
 * larger than --max-request-bytes are refused before they reach the log, as etcd refuses the
 * proposal.
 */
import { RequestTooLargeError, SpaceExceededError, type RequestOp } from '@pontoon/kv';
import { EtcdError } from '../etcd-errors.js';
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


/**
 * A write that uses space: refused while a NOSPACE alarm is active (etcd's capped applier);
 * refused for space, it raises the alarm for this member (etcd's quota check).
 */
export async function spending<T>(ctx: ServerContext, write: () => Promise<T>, signal: AbortSignal): Promise<T> {
  if (ctx.alarms.noSpace) throw new EtcdError('NoSpace');
  try {
    return await write();
  } catch (err) {
    if (err instanceof SpaceExceededError) {
      await ctx.alarms.activate({ memberID: ctx.header.memberId(), alarm: 'NOSPACE' }, signal).catch(() => undefined);
    }
    throw err;
  }
}

function hasPut(ops: readonly RequestOp[]): boolean {
  return ops.some((op) => 'put' in op);
}

export function kvService(ctx: ServerContext): KVHandlers {
  const { member, header } = ctx;
  const serializeTxn = loadEtcdProtos().services.KV.Txn.requestSerialize;
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
      return wirePutResponse(header, await spending(ctx, () => member.put(r.key, r.value, { ...putOptions(r), signal }), signal));
    }),
    DeleteRange: unary(ctx, 'DeleteRange', async (r, signal) =>
      wireDeleteRangeResponse(header, await member.deleteRange(deleteRangeRequest(r), { signal })),
    ),
    Txn: unary(ctx, 'Txn', async (r, signal) => {
      checkSize(serializeTxn(r).length);
      const txn = txnRequest(r);
      const run = () => member.txn(txn, { signal });
      // etcd's capped applier refuses a txn with a put in either branch.
      return wireTxnResponse(header, await (hasPut(txn.success) || hasPut(txn.failure) ? spending(ctx, run, signal) : run()));
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
