/**
 * Errors carried across the peer link. The member that asks the leader reacts to the class of
 * what the leader answered (NotLeaderError: retry elsewhere; LeaseNotFoundError: tell the
 * client), so an error is sent as its class name and own fields and rebuilt as an instance of
 * the same class: `instanceof` and the fields (`leaderId`, `compactRevision`, ...) survive.
 */
import * as kv from '@pontoon/kv';
import * as raft from '@pontoon/raft';
import { PontoonError } from '@pontoon/raft';

/** An error as it travels. */
export interface WireError {
  readonly className: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Every error class of @pontoon/kv and @pontoon/raft, by name. */
const CLASSES: ReadonlyMap<string, ErrorClass> = errorClasses([
  ...Object.entries(kv as Record<string, unknown>),
  ...Object.entries(raft as Record<string, unknown>),
]);

function errorClasses(entries: ReadonlyArray<[string, unknown]>): Map<string, ErrorClass> {
  const classes = new Map<string, ErrorClass>();
  for (const [name, value] of entries) {
    if (typeof value === 'function' && (value as { prototype: unknown }).prototype instanceof Error) {
      classes.set(name, value as ErrorClass);
    }
  }
  return classes;
}

export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { className: 'Error', message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) {
    if (k === 'cause' || typeof v === 'function') continue;
    fields[k] = v;
  }
  return { className: err.constructor.name, message: err.message, fields };
}

/**
 * The error again, as an instance of its class when this process knows it (built without its
 * constructor, whose arguments are not on the wire), else a PontoonError with its code.
 */
export function fromWireError(wire: WireError): Error {
  const cls = CLASSES.get(wire.className);
  if (cls !== undefined) {
    const err = Object.create(cls.prototype as object) as Error;
    Object.defineProperty(err, 'message', { value: wire.message, writable: true, configurable: true });
    Object.assign(err, wire.fields);
    return err;
  }
  const code = typeof wire.fields['code'] === 'string' ? wire.fields['code'] : 'ERR_REMOTE';
  return new PontoonError(code, wire.message);
}
