/**
 * The service the instances serve: `Whoami`, which answers which instance took the call. Its
 * messages are JSON, so the example needs no .proto file and no code generation: grpc-js only
 * asks a service definition for a path and a serializer per method.
 */
import { Client, type Metadata, type ServiceDefinition, type ServiceError, type handleUnaryCall } from '@grpc/grpc-js';

/** The fully-qualified service name, the `service` a method config in a service config names. */
export const ECHO_SERVICE = 'pontoon.examples.Echo';

/** Whoami's request. */
export interface WhoamiRequest {
  /** Who is asking: a real service would log or authorize it; Whoami ignores it. */
  readonly caller: string;
}

/** Whoami's answer. */
export interface WhoamiReply {
  /** The `host:port` of the instance that served the call. */
  readonly instance: string;
  /** 1 for a first attempt, 2 or more when the channel retried the call (gRPC retry policy). */
  readonly attempt: number;
}

function jsonCodec<T>(): { serialize: (value: T) => Buffer; deserialize: (bytes: Buffer) => T } {
  return {
    serialize: (value) => Buffer.from(JSON.stringify(value)),
    deserialize: (bytes) => JSON.parse(bytes.toString('utf8')) as T,
  };
}

const request = jsonCodec<WhoamiRequest>();
const reply = jsonCodec<WhoamiReply>();
const WHOAMI_PATH = `/${ECHO_SERVICE}/Whoami`;

/** The definition a grpc-js server adds (`server.addService(echoService, ...)`). */
export const echoService = {
  whoami: {
    path: WHOAMI_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: request.serialize,
    requestDeserialize: request.deserialize,
    responseSerialize: reply.serialize,
    responseDeserialize: reply.deserialize,
  },
} satisfies ServiceDefinition;

/** The implementation an instance at `instance` serves. */
export function echoImplementation(instance: string): { whoami: handleUnaryCall<WhoamiRequest, WhoamiReply> } {
  return {
    whoami(call, callback) {
      callback(null, { instance, attempt: previousAttempts(call.metadata) + 1 });
    },
  };
}

/** grpc-js sends `grpc-previous-rpc-attempts` on a retried attempt (gRFC A6). */
function previousAttempts(metadata: Metadata): number {
  const [value] = metadata.get('grpc-previous-rpc-attempts');
  return value === undefined ? 0 : Number(value);
}

/** A typed client of the Echo service on any grpc-js channel target. */
export class EchoClient extends Client {
  /** Calls Whoami with a deadline `timeoutMs` from now. */
  whoami(req: WhoamiRequest, timeoutMs: number): Promise<WhoamiReply> {
    return new Promise((resolve, reject) => {
      this.makeUnaryRequest(
        WHOAMI_PATH,
        request.serialize,
        reply.deserialize,
        req,
        { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null, value?: WhoamiReply) => (err !== null || value === undefined ? reject(err) : resolve(value)),
      );
    });
  }
}
