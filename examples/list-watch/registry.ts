/**
 * Kubernetes' layout of objects in etcd: `/registry/<kind>/<namespace>/<name>`, the object as
 * JSON. An object's resourceVersion is the mod_revision of its key, and a list's is the header
 * revision of the read: kube-apiserver hands etcd's revisions to its clients as they are.
 */

/** The fields every object here has (a small part of Kubernetes' ObjectMeta). */
export interface ObjectMeta {
  readonly namespace: string;
  readonly name: string;
}

/** A stored object as an informer or a writer sees it. */
export interface StoredObject<T> {
  readonly object: T;
  /** The key's mod_revision: changes on every write of the object. */
  readonly resourceVersion: number;
}

/** The key of one object. */
export function objectKey(kind: string, meta: ObjectMeta): string {
  return `${kindPrefix(kind)}${meta.namespace}/${meta.name}`;
}

/** The prefix under which every object of `kind` lives, across namespaces. */
export function kindPrefix(kind: string): string {
  return `/registry/${kind}/`;
}

export function encodeObject(object: unknown): string {
  return JSON.stringify(object);
}

export function decodeObject<T>(value: Uint8Array): T {
  return JSON.parse(Buffer.from(value).toString()) as T;
}
