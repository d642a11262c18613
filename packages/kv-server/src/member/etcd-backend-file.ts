/**
 * etcd 3.4's backend as it lies in a bbolt file (an etcd snapshot, or a member's
 * `member/snap/db`): what `etcdctl snapshot status` computes from it, and the MVCC history and
 * leases that etcd restores from it.
 *
 * Layout, from etcd's mvcc and lease packages: bucket `key` maps a revision (8-byte big-endian
 * main, '_', 8-byte big-endian sub, and 't' when the change is a delete) to an mvccpb.KeyValue
 * (a delete's holds the key alone); bucket `meta` holds `finishedCompactRev` and
 * `scheduledCompactRev` (revisions in that form); bucket `lease` maps a lease id to a
 * leasepb.Lease; `meta` also holds `consistent_index`, the applied Raft index. The other buckets
 * (members, alarms, auth) are the old cluster's and do not carry over: a restore writes the new
 * membership, and etcd creates the rest when it starts.
 */
import { Crc32c, type ImportedHistory, type ImportedRevision, appendVarint, droppedByEtcd34Compaction, marshalKeyValue } from '@pontoon/kv';
import { BoltFile, BoltFormatError } from './bolt-file.js';
import { BoltWriter } from './bolt-writer.js';

const REVISION_BYTES = 17;

/** etcdctl's snapshot status figures of an etcd backend file. */
export interface EtcdBackendStatus {
  readonly hash: number;
  readonly revision: number;
  readonly totalKey: number;
  readonly totalSize: number;
}

/**
 * etcdctl 3.4's `snapshot status`: a CRC-32C over every bucket's name and then its keys and
 * values in order, the main revision of the `key` bucket's last key, the count of keys of every
 * bucket and the bytes of the pages in use.
 */
export function etcdBackendStatus(bolt: BoltFile): EtcdBackendStatus {
  const h = new Crc32c();
  let revision = 0;
  let totalKey = 0;
  for (const name of bolt.bucketNames()) {
    h.update(name);
    const isKeyBucket = Buffer.from(name).toString('latin1') === 'key';
    for (const { key, value } of bolt.entries(name) ?? []) {
      h.update(key);
      h.update(value);
      if (isKeyBucket) revision = revisionOf(key).main;
      totalKey++;
    }
  }
  return { hash: h.digest(), revision, totalKey, totalSize: bolt.size };
}

/**
 * The history etcd would restore from the file: every stored change in revision order, read as
 * the import consumes it (a large file is not held twice), the compaction (the scheduled one when
 * it is later than the finished one: etcd resumes it on start) and the leases with their granted
 * TTLs. The bytes of keys and values are views of the file's.
 */
export function etcdBackendHistory(bolt: BoltFile): ImportedHistory {
  const stored = bolt.entries('key');
  if (stored === undefined) throw new BoltFormatError('not an etcd backend: no "key" bucket');
  let finished = -1;
  let scheduled = -1;
  for (const { key, value } of bolt.entries('meta') ?? []) {
    const name = Buffer.from(key).toString('latin1');
    if (name === 'finishedCompactRev') finished = revisionOf(value).main;
    if (name === 'scheduledCompactRev') scheduled = revisionOf(value).main;
  }
  const leases: { id: bigint; ttl: number }[] = [];
  for (const { value } of bolt.entries('lease') ?? []) leases.push(decodeLease(value));
  return { revisions: revisionsOf(stored), compactRevision: Math.max(finished, scheduled), leases };
}

/**
 * Whether etcd had authentication enabled (bucket `auth`, key `authEnabled` = 1). pontoon-kv does
 * not serve auth yet, so a restore of such a file would drop its access control without a word.
 */
export function etcdAuthEnabled(bolt: BoltFile): boolean {
  for (const { key, value } of bolt.entries('auth') ?? []) {
    if (Buffer.from(key).toString('latin1') === 'authEnabled') return value.length === 1 && value[0] === 1;
  }
  return false;
}

function* revisionsOf(stored: Iterable<{ key: Uint8Array; value: Uint8Array }>): Generator<ImportedRevision> {
  for (const { key, value } of stored) {
    const { main, sub, tombstone } = revisionOf(key);
    const kv = decodeKeyValue(value, main);
    if (tombstone) {
      yield { main, sub, tombstone: true, key: kv.key, createRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n };
      continue;
    }
    if (kv.modRevision !== main) throw new BoltFormatError(`the KeyValue at revision ${main} says mod_revision ${kv.modRevision}`);
    yield { main, sub, tombstone: false, key: kv.key, createRevision: kv.createRevision, version: kv.version, value: kv.value, lease: kv.lease };
  }
}

function revisionOf(bytes: Uint8Array): { main: number; sub: number; tombstone: boolean } {
  const tombstone = bytes.length === REVISION_BYTES + 1 && bytes[REVISION_BYTES] === 0x74;
  if ((bytes.length !== REVISION_BYTES && !tombstone) || bytes[8] !== 0x5f) {
    throw new BoltFormatError(`not an etcd revision: ${Buffer.from(bytes).toString('hex')}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const main = view.getBigInt64(0);
  const sub = view.getBigInt64(9);
  if (main < 0n || sub < 0n || main > BigInt(Number.MAX_SAFE_INTEGER) || sub > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BoltFormatError(`revision ${main}.${sub} out of range`);
  }
  return { main: Number(main), sub: Number(sub), tombstone };
}

/** The fields of a protobuf message: varints by field number, length-delimited bytes likewise. */
function protoFields(bytes: Uint8Array, what: string): Map<number, bigint | Uint8Array> {
  const fields = new Map<number, bigint | Uint8Array>();
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= bytes.length) throw new BoltFormatError(`${what}: truncated varint`);
      const b = bytes[at++]!;
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asIntN(64, value);
    }
    throw new BoltFormatError(`${what}: varint too long`);
  };
  while (at < bytes.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    switch (Number(tag & 7n)) {
      case 0:
        fields.set(field, varint());
        break;
      case 2: {
        const length = Number(varint());
        if (length < 0 || at + length > bytes.length) throw new BoltFormatError(`${what}: field ${field} runs past the message`);
        fields.set(field, bytes.subarray(at, at + length));
        at += length;
        break;
      }
      default:
        throw new BoltFormatError(`${what}: field ${field} has wire type ${tag & 7n}, not one of etcd's`);
    }
  }
  return fields;
}

function int(fields: Map<number, bigint | Uint8Array>, n: number, what: string): bigint {
  const v = fields.get(n) ?? 0n;
  if (typeof v !== 'bigint') throw new BoltFormatError(`${what}: field ${n} is not a number`);
  return v;
}

function bytesField(fields: Map<number, bigint | Uint8Array>, n: number, what: string): Uint8Array {
  const v = fields.get(n) ?? new Uint8Array(0);
  if (typeof v === 'bigint') throw new BoltFormatError(`${what}: field ${n} is not bytes`);
  return v;
}

function safe(v: bigint, what: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BoltFormatError(`${what} out of range: ${v}`);
  return Number(v);
}

/** mvccpb.KeyValue: key 1, create_revision 2, mod_revision 3, version 4, value 5, lease 6. */
function decodeKeyValue(bytes: Uint8Array, main: number): Omit<ImportedRevision, 'main' | 'sub' | 'tombstone'> & { modRevision: number } {
  const what = `the KeyValue at revision ${main}`;
  const f = protoFields(bytes, what);
  return {
    key: bytesField(f, 1, what),
    createRevision: safe(int(f, 2, what), `${what}: create_revision`),
    modRevision: safe(int(f, 3, what), `${what}: mod_revision`),
    version: safe(int(f, 4, what), `${what}: version`),
    value: bytesField(f, 5, what),
    lease: int(f, 6, what),
  };
}

/** leasepb.Lease: ID 1, TTL 2 (RemainingTTL 3 is left: a restored lease starts its full TTL). */
function decodeLease(bytes: Uint8Array): { id: bigint; ttl: number } {
  const f = protoFields(bytes, 'a lease');
  const id = int(f, 1, 'a lease');
  return { id, ttl: safe(int(f, 2, `lease ${id}`), `lease ${id}: TTL`) };
}

function revisionBytes(main: number, sub: number, tombstone: boolean): Uint8Array {
  const out = Buffer.alloc(REVISION_BYTES + (tombstone ? 1 : 0));
  out.writeBigInt64BE(BigInt(main), 0);
  out[8] = 0x5f;
  out.writeBigInt64BE(BigInt(sub), 9);
  if (tombstone) out[REVISION_BYTES] = 0x74;
  return out;
}

function int64Bytes(v: bigint): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeBigInt64BE(v, 0);
  return out;
}

/** leasepb.Lease with ID and TTL (a RemainingTTL of 0 means the full TTL, and is left out). */
function encodeLease(id: bigint, ttl: number): Uint8Array {
  const out: number[] = [0x08];
  appendVarint(out, id);
  if (ttl !== 0) {
    out.push(0x10);
    appendVarint(out, BigInt(ttl));
  }
  return Uint8Array.from(out);
}

/**
 * Writes `history` to `file` as etcd 3.4's backend: a bbolt database with the `key`, `lease` and
 * `meta` buckets etcd restores from, `appliedIndex` as its consistent index. Returns its size.
 */
export async function writeEtcdBackend(file: string, history: ImportedHistory, appliedIndex: number): Promise<number> {
  const writer = await BoltWriter.create(file);
  try {
    await writer.bucket('key', {
      *[Symbol.iterator]() {
        for (const r of history.revisions) {
          // Written as etcd 3.4 holds it, so that the restored etcd's HashKV is pontoon-kv's.
          if (droppedByEtcd34Compaction(r, history.compactRevision)) continue;
          const kv = r.tombstone
            ? { key: r.key, createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n }
            : { key: r.key, createRevision: r.createRevision, modRevision: r.main, version: r.version, value: r.value, lease: r.lease };
          yield { key: revisionBytes(r.main, r.sub, r.tombstone), value: marshalKeyValue(kv) };
        }
      },
    });
    const leases = [...history.leases].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    await writer.bucket('lease', leases.map((l) => ({ key: int64Bytes(l.id), value: encodeLease(l.id, l.ttl) })));
    const meta = [{ key: Buffer.from('consistent_index'), value: int64Bytes(BigInt(appliedIndex)) }];
    if (history.compactRevision > 0) {
      const compacted = revisionBytes(history.compactRevision, 0, false);
      meta.push({ key: Buffer.from('finishedCompactRev'), value: Buffer.from(compacted) }, { key: Buffer.from('scheduledCompactRev'), value: Buffer.from(compacted) });
    }
    await writer.bucket('meta', meta);
    return await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
