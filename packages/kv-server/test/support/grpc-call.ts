import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';

/** How a unary call ended: the response, or the status of the error. */
export type CallOutcome<Res> = { ok: true; response: Res } | { ok: false; code: grpc.status; details: string };

/**
 * Calls a unary method with its loaded definition (bounded by `timeoutMs`, default 10 s) and
 * resolves with the response or the error's status, so a test asserts on either.
 */
export function callUnary<Req extends object, Res extends object>(
  client: grpc.Client,
  // never/unknown: only the request's serializer and the response's deserializer are used.
  method: MethodDefinition<Req, never, unknown, Res>,
  request: Req,
  options: { metadata?: grpc.Metadata; timeoutMs?: number } = {},
): Promise<CallOutcome<Res>> {
  const m = method;
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      request,
      options.metadata ?? new grpc.Metadata(),
      { deadline: Date.now() + (options.timeoutMs ?? 10_000) },
      (err, response) => {
        if (err !== null) resolve({ ok: false, code: err.code, details: err.details });
        else resolve({ ok: true, response: response as Res });
      },
    );
  });
}

/** A plain grpc-js client for `http://host:port`, for any service's methods. */
export function grpcClient(endpoint: string): grpc.Client {
  return new grpc.Client(endpoint.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure());
}
