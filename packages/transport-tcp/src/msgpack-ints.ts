/**
 * A msgpack array of non-negative integers, written and read by hand: the header of every
 * Messages frame. It is plain msgpack (any msgpack library decodes it; the array is always
 * written in the array32 form so that its count can be filled in last), but going through
 * msgpackr's generic pack/unpack cost ~200 ns to pack and ~500 ns to unpack per message
 * (measured: packages/transport-tcp README, "Performance"), most of the transport's budget.
 * The reader accepts exactly what a msgpack array of uints can be, nothing else.
 */
import { MessageDecodeError } from './errors.js';

const TWO_32 = 2 ** 32;
const EMPTY = new Uint8Array(0);

/** Appends integers to a reused buffer. Not re-entrant. */
export class IntArrayWriter {
  private buf = new Uint8Array(4096);
  /** Where push() may write without checking: room for the widest value (9 bytes) is left. */
  private limit = 4096 - 9;
  private pos = 5;
  private count = 0;

  reset(): void {
    this.pos = 5;
    this.count = 0;
  }

  push(v: number): void {
    // Small enough to be inlined: most values are positive fixints. `v & 0x7f` equals v only
    // for an integer in [0, 128).
    const p = this.pos;
    if ((v & 0x7f) === v && p < this.limit) {
      this.buf[p] = v;
      this.pos = p + 1;
      this.count++;
    } else {
      this.pushWide(v);
    }
  }

  private pushWide(v: number): void {
    if (this.pos >= this.limit) this.grow();
    const b = this.buf;
    let p = this.pos;
    if (v >>> 0 === v) {
      if (v < 0x80) b[p++] = v;
      else if (v < 0x100) {
        b[p++] = 0xcc;
        b[p++] = v;
      } else if (v < 0x10000) {
        b[p++] = 0xcd;
        b[p++] = v >>> 8;
        b[p++] = v & 0xff;
      } else {
        b[p++] = 0xce;
        b[p++] = v >>> 24;
        b[p++] = (v >>> 16) & 0xff;
        b[p++] = (v >>> 8) & 0xff;
        b[p++] = v & 0xff;
      }
    } else {
      // A bug upstream, not bad input: the core only makes non-negative safe integers.
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`cannot encode ${v}: not a non-negative safe integer`);
      const hi = Math.floor(v / TWO_32);
      const lo = v >>> 0;
      b[p++] = 0xcf;
      b[p++] = hi >>> 24;
      b[p++] = (hi >>> 16) & 0xff;
      b[p++] = (hi >>> 8) & 0xff;
      b[p++] = hi & 0xff;
      b[p++] = lo >>> 24;
      b[p++] = (lo >>> 16) & 0xff;
      b[p++] = (lo >>> 8) & 0xff;
      b[p++] = lo & 0xff;
    }
    this.pos = p;
    this.count++;
  }

  /** The encoded array: a view of the internal buffer, valid until the next reset(). */
  finish(): Uint8Array {
    const b = this.buf;
    const n = this.count;
    b[0] = 0xdd;
    b[1] = n >>> 24;
    b[2] = (n >>> 16) & 0xff;
    b[3] = (n >>> 8) & 0xff;
    b[4] = n & 0xff;
    return b.subarray(0, this.pos);
  }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * 2);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.limit = next.length - 9;
  }
}

/** Reads a msgpack array of non-negative integers from `buf[start, end)`; reusable (reset). */
export class IntArrayReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  /** Integers left in the array. */
  remaining = 0;

  /** Starts reading the array in `buf[start, end)`. */
  reset(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.remaining = 0;
    if (end - start < 1) throw new MessageDecodeError('empty header');
    const t = buf[this.pos++]!;
    let n: number;
    if (t >= 0x90 && t <= 0x9f) n = t & 0x0f;
    else if (t === 0xdc && end - this.pos >= 2) {
      n = (buf[this.pos]! << 8) | buf[this.pos + 1]!;
      this.pos += 2;
    } else if (t === 0xdd && end - this.pos >= 4) {
      n = buf[this.pos]! * 0x1000000 + ((buf[this.pos + 1]! << 16) | (buf[this.pos + 2]! << 8) | buf[this.pos + 3]!);
      this.pos += 4;
    } else throw new MessageDecodeError('header is not a msgpack array');
    // Every integer takes at least one byte: a count beyond the bytes is a lie.
    if (n > end - this.pos) throw new MessageDecodeError(`header claims ${n} values in ${end - this.pos} bytes`);
    this.remaining = n;
  }

  /** Lets go of the buffer (so that a reused reader keeps no socket read alive). */
  release(): void {
    this.buf = EMPTY;
  }

  /** Whether every integer was read and nothing follows the array. */
  get finished(): boolean {
    return this.remaining === 0 && this.pos === this.end;
  }

  /** The next integer; `what` names it in the error if it is missing or not a uint. */
  next(what: string): number {
    // Small enough to be inlined: most header values are positive fixints (types, ids, terms,
    // counts, small lengths).
    const p = this.pos;
    if (this.remaining > 0 && p < this.end) {
      const t = this.buf[p]!;
      if (t < 0x80) {
        this.pos = p + 1;
        this.remaining--;
        return t;
      }
    }
    return this.nextWide(what);
  }

  private nextWide(what: string): number {
    if (this.remaining === 0) throw new MessageDecodeError(`header ends before ${what}`);
    this.remaining--;
    const b = this.buf;
    const left = this.end - this.pos;
    if (left < 1) throw new MessageDecodeError(`header bytes end before ${what}`);
    const t = b[this.pos++]!;
    if (t < 0x80) return t;
    if (t === 0xcc && left >= 2) return b[this.pos++]!;
    if (t === 0xcd && left >= 3) {
      const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
      this.pos += 2;
      return v;
    }
    if (t === 0xce && left >= 5) {
      const v = b[this.pos]! * 0x1000000 + ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
      this.pos += 4;
      return v;
    }
    if (t === 0xcf && left >= 9) {
      const p = this.pos;
      const hi = b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
      const lo = b[p + 4]! * 0x1000000 + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!);
      this.pos += 8;
      const v = hi * TWO_32 + lo;
      if (!Number.isSafeInteger(v)) throw new MessageDecodeError(`${what} exceeds the safe integer range`);
      return v;
    }
    throw new MessageDecodeError(`${what} is not a non-negative integer`);
  }
}
