/**
 * `etcdserverpb.Auth/AuthStatus`, which etcd 3.5 added and 3.4's protos lack: newer clients ask
 * it before anything else, so it answers "auth disabled" (enabled false, auth revision 0).
 * Authenticate answers etcd's "authentication is not enabled"; every other Auth method answers
 * UNIMPLEMENTED. The response is encoded here by hand: it is
 * the ResponseHeader (field 1) alone, since `enabled` and `authRevision` are zero.
 */
import type * as grpc from '@grpc/grpc-js';
import { EtcdError } from '../etcd-errors.js';
import type { AuthenticateRequest__Output } from '../proto-types/etcdserverpb/AuthenticateRequest.js';
import type { AuthenticateResponse } from '../proto-types/etcdserverpb/AuthenticateResponse.js';
import type { ResponseHeader } from '../proto-types/etcdserverpb/ResponseHeader.js';
import { type ServerContext, unary } from './call-context.js';
import { wireHeader } from './wire.js';

export const AUTH_STATUS_PATH = '/etcdserverpb.Auth/AuthStatus';

function varint(n: bigint, out: number[]): void {
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** protobuf encoding of an AuthStatusResponse with this header (proto3 omits zero fields). */
export function encodeAuthStatus(header: ResponseHeader): Buffer {
  const h: number[] = [];
  const fields: [number, unknown][] = [
    [1, header.cluster_id],
    [2, header.member_id],
    [3, header.revision],
    [4, header.raft_term],
  ];
  for (const [field, value] of fields) {
    const n = BigInt(String(value ?? 0));
    if (n === 0n) continue;
    h.push(field << 3);
    varint(n, h);
  }
  const out: number[] = [0x0a];
  varint(BigInt(h.length), out);
  return Buffer.from([...out, ...h]);
}

/** Registers AuthStatus on `server`. */
export function registerAuthStatus(server: grpc.Server, ctx: ServerContext): void {
  const handler = unary<Buffer, ResponseHeader>(ctx, 'AuthStatus', async () =>
    wireHeader(ctx.header, { revision: ctx.member.revision, raftTerm: ctx.member.raft.term }),
  );
  // The request (AuthStatusRequest) has no fields: its bytes are not read.
  server.register(AUTH_STATUS_PATH, handler, encodeAuthStatus, (b: Buffer) => b, 'unary');
}

/** Authenticate on a cluster whose authentication is off, as etcd answers it. */
export function authenticate(ctx: ServerContext): grpc.handleUnaryCall<AuthenticateRequest__Output, AuthenticateResponse> {
  return unary(ctx, 'Authenticate', () => Promise.reject(new EtcdError('AuthNotEnabled')));
}
