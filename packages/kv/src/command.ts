/**
 * The commands that go through the Raft log: every request that changes the store. They are
 * encoded with msgpackr (bytes stay bytes, lease ids stay int64). Lease grants carry their id,
 * chosen before proposing or left to the store, which picks it deterministically.
 */
import { Packr } from 'msgpackr';
import { InvalidRequestError } from './errors.js';
import type { ClusterMetaRequest, CompactionRequest, DeleteRangeRequest, LeaseGrantRequest, LeaseRevokeRequest, PutRequest, TxnRequest } from './types.js';

export type KvCommand =
  | { op: 'put'; request: PutRequest }
  | { op: 'deleteRange'; request: DeleteRangeRequest }
  | { op: 'txn'; request: TxnRequest }
  | { op: 'compact'; request: CompactionRequest }
  | { op: 'leaseGrant'; request: LeaseGrantRequest }
  | { op: 'leaseRevoke'; request: LeaseRevokeRequest }
  | { op: 'clusterMeta'; request: ClusterMetaRequest };

const OPS = new Set(['put', 'deleteRange', 'txn', 'compact', 'leaseGrant', 'leaseRevoke', 'clusterMeta']);

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

export function encodeCommand(command: KvCommand): Uint8Array {
  return packr.pack(command);
}

/**
 * Decodes a command from a log entry. Bytes that are not a command are bad input (an entry
 * written by something else), answered with a typed error as that entry's result.
 */
export function decodeCommand(data: Uint8Array): KvCommand {
  let value: unknown;
  try {
    value = packr.unpack(data);
  } catch (err) {
    throw new InvalidRequestError('command', `not a msgpack-encoded command (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null) throw new InvalidRequestError('command', 'not an object');
  const { op, request } = value as { op?: unknown; request?: unknown };
  if (typeof op !== 'string' || !OPS.has(op)) throw new InvalidRequestError('command.op', String(op));
  if (typeof request !== 'object' || request === null) throw new InvalidRequestError('command.request', 'missing');
  return value as KvCommand;
}
