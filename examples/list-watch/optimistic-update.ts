/**
 * Optimistic concurrency as kube-apiserver's GuaranteedUpdate does it on etcd: read the object
 * with its mod_revision, change it in memory, then write it in a transaction that succeeds only
 * if the key's mod_revision is still the one read. If another writer got there first, the
 * transaction's failure branch returns the current object, and the change is made again on it.
 * No update is lost and no lock is held.
 */
import { utf8, type KvMember } from '@pontoon/kv';
import { PontoonError } from '@pontoon/raft';
import { decodeObject, encodeObject, type StoredObject } from './registry.js';

/** The outcome of one update. */
export interface UpdateResult<T> extends StoredObject<T> {
  /** Transactions tried: 1 without contention, one more per conflict. */
  readonly attempts: number;
}

/** Thrown when the object to update does not exist. */
export class ObjectNotFoundError extends PontoonError {
  constructor(readonly key: string) {
    super('OBJECT_NOT_FOUND', `${key} not found`);
  }
}

/** Creates `key` with `object` if no such key exists; false if it did (nothing written). */
export async function createObject(member: KvMember, key: string, object: unknown): Promise<boolean> {
  const k = utf8(key);
  const created = await member.txn({
    // create_revision 0: the key does not exist (Kubernetes' "AlreadyExists" otherwise).
    compare: [{ key: k, target: 'create', result: 'equal', createRevision: 0 }],
    success: [{ put: { key: k, value: utf8(encodeObject(object)) } }],
    failure: [],
  });
  return created.succeeded;
}

/**
 * Applies `mutate` to the object at `key` and writes the result with compare-and-swap on
 * mod_revision, retrying on conflict. `mutate` may run several times, each time on the current
 * object, so it must compute the new object from its argument only.
 */
export async function updateObject<T>(member: KvMember, key: string, mutate: (current: T) => T): Promise<UpdateResult<T>> {
  const k = utf8(key);
  const first = (await member.get(k)).kvs[0];
  if (first === undefined) throw new ObjectNotFoundError(key);
  let current: StoredObject<T> = { object: decodeObject<T>(first.value), resourceVersion: first.modRevision };
  for (let attempts = 1; ; attempts++) {
    const next = mutate(current.object);
    const swapped = await member.txn({
      compare: [{ key: k, target: 'mod', result: 'equal', modRevision: current.resourceVersion }],
      success: [{ put: { key: k, value: utf8(encodeObject(next)) } }],
      failure: [{ range: { key: k } }],
    });
    if (swapped.succeeded) return { object: next, resourceVersion: swapped.header.revision, attempts };
    // Conflict: someone else wrote first. Their version came back in the same round trip.
    const op = swapped.responses[0];
    const latest = op !== undefined && 'range' in op ? op.range.kvs[0] : undefined;
    if (latest === undefined) throw new ObjectNotFoundError(key);
    current = { object: decodeObject<T>(latest.value), resourceVersion: latest.modRevision };
  }
}
