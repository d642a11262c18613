/**
 * Filling an empty store with a history made elsewhere: etcd's key and lease buckets, read from
 * an etcd snapshot, become the store's rows, so that a cluster moves from etcd with its
 * revisions, history and leases intact.
 *
 * The history is checked as it is written, since it comes from a file: revisions strictly
 * increase, each key's changes follow one another (a put after a put is the next version of the
 * same generation; after a delete, or first, anything whole), and the numbers are in range. A
 * key's first change may come after a compaction removed the ones before it, so it is not held to
 * version 1.
 */
import { InvalidRequestError } from './errors.js';
import type { StoreTables } from './store-txn.js';

/** One stored change: a put (the key's value and metadata as of it) or a delete (`tombstone`). */
export interface ImportedRevision {
  readonly main: number;
  readonly sub: number;
  readonly tombstone: boolean;
  readonly key: Uint8Array;
  /** A delete's is empty. */
  readonly value: Uint8Array;
  /** A delete's is 0. */
  readonly createRevision: number;
  /** A delete's is 0. */
  readonly version: number;
  /** A delete's is 0n. */
  readonly lease: bigint;
}

/** A store's contents as another system kept them. */
export interface ImportedHistory {
  /** Every stored change, in revision order (iterated once, as it is written). */
  readonly revisions: Iterable<ImportedRevision>;
  /** The revision the history was compacted at, or -1. */
  readonly compactRevision: number;
  /** The granted leases and their TTLs in seconds. */
  readonly leases: readonly { readonly id: bigint; readonly ttl: number }[];
}

function refuse(message: string): never {
  throw new InvalidRequestError('importHistory', message);
}

function checkCount(n: number, what: string, min: number): void {
  if (!Number.isSafeInteger(n) || n < min) refuse(`${what} must be a safe integer of at least ${min}, got ${String(n)}`);
}

/**
 * Writes the history's rows, leases and lease attachments into empty tables; returns the store
 * revision it reaches (its last change, or the compaction when that came later, as etcd sets it).
 * The caller compacts at `compactRevision` afterwards, in the same transaction.
 */
export function writeImportedHistory(tables: StoreTables, h: ImportedHistory, leaseTtl: { readonly min: number; readonly max: number }): number {
  if (h.compactRevision !== -1) checkCount(h.compactRevision, 'compactRevision', 1);
  let last = { main: 0, sub: 0 };
  // Each key's latest change, to check the next one against and to attach leases at the end.
  const latest = new Map<string, ImportedRevision>();
  for (const r of h.revisions) {
    checkCount(r.main, 'a revision', 1);
    checkCount(r.sub, `revision ${r.main}'s sub`, 0);
    if (r.main < last.main || (r.main === last.main && r.sub <= last.sub)) {
      refuse(`revision ${r.main}.${r.sub} comes after ${last.main}.${last.sub}`);
    }
    last = r;
    if (r.key.length === 0) refuse(`revision ${r.main}.${r.sub} has no key`);
    const id = Buffer.from(r.key).toString('latin1');
    const before = latest.get(id);
    if (r.tombstone) {
      if (before?.tombstone === true) refuse(`revision ${r.main}.${r.sub} deletes a key already deleted at ${before.main}`);
      tables.revisions.putTombstone(r, r.key);
    } else {
      checkCount(r.version, `revision ${r.main}.${r.sub}'s version`, 1);
      checkCount(r.createRevision, `revision ${r.main}.${r.sub}'s create revision`, 1);
      if (r.createRevision > r.main) refuse(`revision ${r.main}.${r.sub} was created later, at ${r.createRevision}`);
      if (r.lease < 0n || r.lease >= 2n ** 63n) refuse(`revision ${r.main}.${r.sub} names lease ${r.lease}`);
      const follows = before === undefined || before.tombstone
        ? before === undefined || (r.version === 1 && r.createRevision === r.main)
        : r.version === before.version + 1 && r.createRevision === before.createRevision;
      if (!follows) refuse(`revision ${r.main}.${r.sub} (version ${r.version}, created ${r.createRevision}) does not follow the key's change at ${before!.main}`);
      tables.revisions.put(r, {
        key: r.key,
        value: r.value,
        createRevision: r.createRevision,
        modRevision: r.main,
        version: r.version,
        lease: r.lease,
      });
    }
    latest.set(id, r);
  }
  for (const l of h.leases) {
    if (l.id <= 0n || l.id >= 2n ** 63n) refuse(`lease id ${l.id}`);
    checkCount(l.ttl, `lease ${l.id}'s TTL`, 0);
    if (l.ttl > leaseTtl.max) refuse(`lease ${l.id}'s TTL ${l.ttl} is over ${leaseTtl.max}`);
    if (tables.leases.ttl(l.id) !== undefined) refuse(`lease ${l.id} twice`);
    // etcd raises a restored lease's TTL to the minimum as it recovers it.
    tables.leases.grant(l.id, Math.max(l.ttl, leaseTtl.min));
  }
  // etcd attaches each live key to the lease its latest put names, if that lease exists.
  for (const r of latest.values()) {
    if (!r.tombstone && r.lease !== 0n && tables.leases.ttl(r.lease) !== undefined) tables.leases.attach(r.lease, r.key);
  }
  return Math.max(last.main, h.compactRevision, 1);
}
