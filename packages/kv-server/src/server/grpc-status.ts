/**
 * How an error raised while serving a call reaches the client: etcd's status code and exact
 * message. @pontoon/kv's errors carry etcd's message (`etcdMessage`); this package's EtcdError
 * carries its table row; anything else is a bug in us or bad input we did not classify, sent as
 * etcd sends an unexpected error (UNKNOWN with the text) so the process survives it.
 */
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { EtcdError as KvEtcdError, InvalidRequestError } from '@pontoon/kv';
import { ETCD_ERRORS, EtcdError, type EtcdErrorName } from '../etcd-errors.js';

const nameByMessage = new Map<string, EtcdErrorName>(
  Object.entries(ETCD_ERRORS).map(([name, [, message]]) => [message, name as EtcdErrorName]),
);

/** The status etcd would send for `err`. */
export function toGrpcStatus(err: unknown): Partial<ServiceError> & { code: GrpcStatus; details: string } {
  if (err instanceof EtcdError) return status(err.grpcCode, err.message);
  if (err instanceof KvEtcdError) {
    const name = nameByMessage.get(err.etcdMessage);
    if (name !== undefined) return status(ETCD_ERRORS[name][0], ETCD_ERRORS[name][1]);
    return status(err.grpcStatus as GrpcStatus, err.etcdMessage);
  }
  if (err instanceof InvalidRequestError) return status(GrpcStatus.INVALID_ARGUMENT, err.message);
  if (err instanceof Error && err.name === 'AbortError') return status(GrpcStatus.CANCELLED, 'context canceled');
  return status(GrpcStatus.UNKNOWN, err instanceof Error ? err.message : String(err));
}

function status(code: GrpcStatus, details: string): { code: GrpcStatus; details: string; message: string; metadata: Metadata } {
  return { code, details, message: details, metadata: new Metadata() };
}
