/**
 * A revision (main, sub): `main` is the store revision of a write transaction, `sub` the position
 * of one change inside it (etcd's mvcc revision).
 */
export interface Revision {
  readonly main: number;
  readonly sub: number;
}

/** a > b in (main, sub) order. */
export function revisionGreaterThan(a: Revision, b: Revision): boolean {
  return a.main > b.main || (a.main === b.main && a.sub > b.sub);
}

/** A map key for a revision. */
export function revisionId(rev: Revision): string {
  return `${rev.main}_${rev.sub}`;
}

/**
 * The revision's key in etcd's key bucket: 8 bytes big-endian main, '_', 8 bytes big-endian sub,
 * and a trailing 't' for a tombstone. HashKV hashes these bytes, so they must be etcd's.
 */
export function revisionBytes(rev: Revision, tombstone: boolean): Uint8Array {
  const out = Buffer.alloc(tombstone ? 18 : 17);
  out.writeBigUInt64BE(BigInt(rev.main), 0);
  out[8] = 0x5f;
  out.writeBigUInt64BE(BigInt(rev.sub), 9);
  if (tombstone) out[17] = 0x74;
  return out;
}
