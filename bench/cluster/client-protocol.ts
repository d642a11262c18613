/**
 * The benchmark client's protocol to a node: records on one TCP connection, each
 * `[u8 kind][u32 id][u32 length][length bytes]`, self-delimiting so that no outer frame is
 * needed. Either side gathers the records of one turn of its event loop into one socket write
 * (clients may batch over one connection).
 *
 * Requests: kind Write (bytes: the command to propose) or Read (bytes: the query for a
 * linearizable read). Responses: kind Ok (bytes: a read's answer, empty for a write) or Error
 * (bytes: UTF-8 `CODE message`), with the request's id.
 */
import type { Socket } from 'node:net';

export const RecordKind = { Write: 1, Read: 2, Ok: 3, Error: 4 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

const HEADER = 9;
/** Larger records are a protocol error: nothing in the benchmark comes near it. */
const MAX_RECORD = 16 << 20;

/** Collects records and writes them to a socket in one write. */
export class RecordWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private used = 0;

  constructor(private readonly socket: Socket) {}

  add(kind: RecordKind, id: number, bytes: Uint8Array): void {
    const need = this.used + HEADER + bytes.length;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    const b = this.buf;
    let o = this.used;
    b[o] = kind;
    b.writeUInt32BE(id >>> 0, o + 1);
    b.writeUInt32BE(bytes.length, o + 5);
    o += HEADER;
    b.set(bytes, o);
    this.used = o + bytes.length;
  }

  get pending(): boolean {
    return this.used > 0;
  }

  /** Writes what was added (one syscall for the lot) and starts a new batch. */
  flush(): void {
    if (this.used === 0 || this.socket.destroyed) {
      this.used = 0;
      return;
    }
    // A copy: the socket may hold the buffer until the kernel takes it, and `buf` is reused.
    this.socket.write(Buffer.from(this.buf.subarray(0, this.used)));
    this.used = 0;
  }
}

/**
 * Splits a byte stream into records. `bytes` given to the callback is a view of the received
 * chunk: copy it to keep it past the callback.
 */
export class RecordReader {
  private rest: Buffer | undefined;

  constructor(private readonly onRecord: (kind: RecordKind, id: number, bytes: Uint8Array) => void) {}

  push(chunk: Buffer): void {
    const b = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = undefined;
    let o = 0;
    while (b.length - o >= HEADER) {
      const length = b.readUInt32BE(o + 5);
      if (length > MAX_RECORD) throw new Error(`client protocol: a record of ${length} bytes`);
      if (b.length - o < HEADER + length) break;
      this.onRecord(b[o] as RecordKind, b.readUInt32BE(o + 1), b.subarray(o + HEADER, o + HEADER + length));
      o += HEADER + length;
    }
    if (o < b.length) this.rest = b.subarray(o);
  }
}
