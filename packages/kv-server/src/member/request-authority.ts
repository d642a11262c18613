/**
 * The HTTP/2 `:authority` of requests as etcd's Go clients send them, made acceptable to Node.
 *
 * clientv3 dials one endpoint directly (`passthrough:///http://host:port`: `etcdctl endpoint
 * status|hashkv`, `defrag`, `move-leader`, ...) with the endpoint URL as it was written, so its
 * requests carry `:authority: http://host:port`. Go's gRPC server ignores the value; Node's
 * HTTP/2 (nghttp2) checks it against RFC 3986's authority characters, and a `/` there makes it
 * reset the stream with PROTOCOL_ERROR, with no option to turn the check off. So the client
 * port's relay reads the client's frames and replaces such an authority with the URL's
 * `host:port` before they reach the gRPC server.
 *
 * The rewrite is sound within HPACK: the new value is shorter than the old one, so the server's
 * dynamic table, which may now hold the shorter entry, evicts no entry that the client's encoder
 * still refers to (each entry the server holds is at most as large as the client's copy).
 *
 * The `:authority` literals rewritten are those named by HPACK's static entry or spelt out; one
 * named through a dynamic-table entry is left as it is (encoders, Go's and nghttp2's among them,
 * use the static entry for a name it holds).
 *
 * A gRPC client keeps one authority per connection, so the relay watches a connection's first
 * request only: when it needed no rewrite the connection is piped as is from then on (no cost on
 * the hot path); when it did, every later request's headers go through the rewrite too.
 */
import { Duplex } from 'node:stream';
import { decodeHuffman } from './hpack-huffman.js';

const PREFACE_LENGTH = 24;
const FRAME_HEADER_LENGTH = 9;
const FRAME_HEADERS = 0x1;
const FRAME_CONTINUATION = 0x9;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** SETTINGS_MAX_FRAME_SIZE's floor: every HTTP/2 peer accepts frames this large. */
const MIN_MAX_FRAME_SIZE = 16_384;
/** A header block past this size is not buffered for rewriting (the server will refuse it anyway). */
const MAX_HEADER_BLOCK = 1 << 20;
/** HPACK's static table index of `:authority`. */
const STATIC_AUTHORITY = 1;
const AUTHORITY = Buffer.from(':authority', 'latin1');
/** A URL's scheme and `//`, then its authority (RFC 3986 §3). */
const URL_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]+)/;
/** nghttp2's check: the characters RFC 3986 allows in an authority. */
const VALID_AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/;

/** Whether a connection is still being watched, has its authorities rewritten, or is piped as is. */
export type AuthorityFilterMode = 'watching' | 'rewriting' | 'passthrough';

/**
 * Reads a client's HTTP/2 bytes (the connection preface first) and gives back the bytes to send
 * on, with URL-shaped `:authority` values replaced by their `host:port`. Bytes of an unfinished
 * header block are held until the block is complete.
 */
export class RequestAuthorityFilter {
  private _mode: AuthorityFilterMode = 'watching';
  /** Header blocks rewritten so far. */
  private rewrites = 0;
  private pending: Buffer = Buffer.alloc(0);
  private prefaceLeft = PREFACE_LENGTH;
  /** Payload bytes of a frame other than HEADERS/CONTINUATION still to pass through. */
  private passLeft = 0;
  /** The raw frames of the header block being collected, and its fragments. */
  private blockFrames: Buffer[] = [];
  private blockFragments: Buffer[] = [];
  private blockBytes = 0;
  /** Flags, stream and priority fields of the block's HEADERS frame. */
  private blockHead: { flags: number; stream: number; priority: Buffer | undefined } | undefined;

  get mode(): AuthorityFilterMode {
    return this._mode;
  }

  /** Feeds bytes from the client; returns what to forward now (possibly nothing). */
  push(chunk: Buffer): Buffer[] {
    if (this._mode === 'passthrough') return [chunk];
    const out: Buffer[] = [];
    const rewrites = this.rewrites;
    const blockBefore = this.blockHead !== undefined;
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = Buffer.alloc(0);
    let pos = 0;
    while (pos < data.length) {
      // A method, not the field: TypeScript keeps the narrowing above across calls that change it.
      if (this.passingThrough()) {
        out.push(data.subarray(pos));
        return out;
      }
      if (this.prefaceLeft > 0 || this.passLeft > 0) {
        const n = Math.min(data.length - pos, this.prefaceLeft > 0 ? this.prefaceLeft : this.passLeft);
        out.push(data.subarray(pos, pos + n));
        pos += n;
        if (this.prefaceLeft > 0) this.prefaceLeft -= n;
        else this.passLeft -= n;
        continue;
      }
      if (data.length - pos < FRAME_HEADER_LENGTH) break;
      const length = data.readUIntBE(pos, 3);
      const type = data[pos + 3]!;
      const inBlock = this.blockHead !== undefined;
      if (type !== FRAME_HEADERS && !(inBlock && type === FRAME_CONTINUATION)) {
        if (inBlock) {
          // RFC 9113 §6.10 forbids other frames inside a header block: not ours to repair.
          out.push(...this.abandonBlock());
          continue;
        }
        out.push(data.subarray(pos, pos + FRAME_HEADER_LENGTH));
        pos += FRAME_HEADER_LENGTH;
        this.passLeft = length;
        continue;
      }
      if (this.blockBytes + length > MAX_HEADER_BLOCK) {
        out.push(...this.abandonBlock());
        continue;
      }
      if (data.length - pos < FRAME_HEADER_LENGTH + length) break;
      const frame = data.subarray(pos, pos + FRAME_HEADER_LENGTH + length);
      pos += frame.length;
      if (!this.collect(frame, type)) {
        out.push(...this.abandonBlock(), frame);
        continue;
      }
      if ((frame[4]! & FLAG_END_HEADERS) !== 0) out.push(...this.finishBlock());
    }
    if (pos < data.length) {
      // Copied: the caller's chunk must not be kept alive by a view of its tail.
      this.pending = Buffer.from(data.subarray(pos));
    } else if (this.rewrites === rewrites && !blockBefore && this.blockHead === undefined) {
      // Nothing held back, released from before, or rewritten: the bytes go on as they came.
      return [data];
    }
    return out;
  }

  private passingThrough(): boolean {
    return this._mode === 'passthrough';
  }

  /** Adds one HEADERS or CONTINUATION frame to the block; false if the frame is malformed. */
  private collect(frame: Buffer, type: number): boolean {
    const flags = frame[4]!;
    const stream = frame.readUInt32BE(5) & 0x7fffffff;
    let start = FRAME_HEADER_LENGTH;
    let end = frame.length;
    if (type === FRAME_HEADERS) {
      let priority: Buffer | undefined;
      if ((flags & FLAG_PADDED) !== 0) {
        if (end - start < 1) return false;
        const pad = frame[start]!;
        start += 1;
        end -= pad;
      }
      if ((flags & FLAG_PRIORITY) !== 0) {
        priority = frame.subarray(start, start + 5);
        start += 5;
      }
      if (start > end) return false;
      this.blockHead = { flags, stream, priority };
    } else if (stream !== this.blockHead!.stream) {
      return false;
    }
    this.blockFrames.push(frame);
    this.blockFragments.push(frame.subarray(start, end));
    this.blockBytes += frame.length;
    return true;
  }

  /** The complete block, rewritten if its authority needs it; decides the connection's mode. */
  private finishBlock(): Buffer[] {
    const head = this.blockHead!;
    const frames = this.blockFrames;
    const block = this.blockFragments.length === 1 ? this.blockFragments[0]! : Buffer.concat(this.blockFragments);
    this.resetBlock();
    const rewritten = rewriteAuthority(block);
    if (rewritten === undefined) {
      if (this._mode === 'watching') this._mode = 'passthrough';
      return frames;
    }
    this._mode = 'rewriting';
    this.rewrites++;
    return headerFrames(head, rewritten);
  }

  /** Gives up on the block: its frames go on unchanged, and so does the rest of the connection. */
  private abandonBlock(): Buffer[] {
    const frames = this.blockFrames;
    this.resetBlock();
    this._mode = 'passthrough';
    return frames;
  }

  private resetBlock(): void {
    this.blockHead = undefined;
    this.blockFrames = [];
    this.blockFragments = [];
    this.blockBytes = 0;
  }
}

/**
 * The client's connection as the gRPC server reads it: bytes from the client pass through a
 * {@link RequestAuthorityFilter}, bytes to the client go straight to the socket. It has to be a
 * stream of its own, handed to the server from the first byte, because Go clients wait for the
 * server's SETTINGS before they send their first request: the server must be answering before
 * anyone can know whether the connection's authority needs rewriting. `head`: bytes already
 * read off the socket (protocol sniffing), read first.
 */
export class AuthorityRewritingConnection extends Duplex {
  private readonly authorityFilter = new RequestAuthorityFilter();

  constructor(
    private readonly socket: Duplex,
    head: Buffer,
  ) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => this.fromClient(chunk));
    socket.once('end', () => this.push(null));
    socket.once('error', (err) => this.destroy(err));
    socket.once('close', () => this.destroy());
    if (head.length > 0) this.fromClient(head);
  }

  private fromClient(chunk: Buffer): void {
    const parts = this.authorityFilter.push(chunk);
    if (parts.length === 0) return;
    // One buffer per chunk: the reader sees no more pieces than the socket delivered.
    const ok = this.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    if (!ok) this.socket.pause();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  /**
   * The HTTP/2 session hands its output of a turn over as many buffers at once (frames of every
   * answer): without this, each would wait for the previous one's completion and go to the
   * kernel in a write of its own; corked, they leave in one writev.
   */
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const socket = this.socket;
    socket.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) socket.write(chunks[i]!.chunk);
    socket.write(chunks[last]!.chunk, callback);
    socket.uncork();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}

/**
 * The header block with its URL-shaped `:authority` replaced by the URL's authority; undefined
 * when there is none to replace (or the block cannot be read: the server will answer it).
 */
export function rewriteAuthority(block: Buffer): Buffer | undefined {
  const splices: Array<{ start: number; end: number; value: Buffer }> = [];
  let pos = 0;
  while (pos < block.length) {
    const first = block[pos]!;
    if ((first & 0x80) !== 0) {
      // Indexed field: refers to an entry the server already holds (rewritten if it was ours).
      const r = readInteger(block, pos, 7);
      if (r === undefined) return undefined;
      pos = r.next;
      continue;
    }
    if ((first & 0xe0) === 0x20) {
      const r = readInteger(block, pos, 5);
      if (r === undefined) return undefined;
      pos = r.next;
      continue;
    }
    // Literal field: with incremental indexing (6-bit name index), without or never indexed (4-bit).
    const name = readInteger(block, pos, (first & 0xc0) === 0x40 ? 6 : 4);
    if (name === undefined) return undefined;
    pos = name.next;
    let isAuthority = name.value === STATIC_AUTHORITY;
    if (name.value === 0) {
      const literal = readString(block, pos);
      if (literal === undefined) return undefined;
      pos = literal.next;
      isAuthority = literal.value !== undefined && literal.value.equals(AUTHORITY);
    }
    const value = readString(block, pos);
    if (value === undefined) return undefined;
    if (isAuthority && value.value !== undefined) {
      const replacement = authorityOfUrl(value.value.toString('latin1'));
      if (replacement !== undefined) splices.push({ start: pos, end: value.next, value: encodeRawString(replacement) });
    }
    pos = value.next;
  }
  if (splices.length === 0) return undefined;
  const parts: Buffer[] = [];
  let from = 0;
  for (const s of splices) {
    parts.push(block.subarray(from, s.start), s.value);
    from = s.end;
  }
  parts.push(block.subarray(from));
  return Buffer.concat(parts);
}

/** `host:port` of an authority written as a URL, when nghttp2 refuses it and the URL's part passes. */
function authorityOfUrl(value: string): string | undefined {
  if (VALID_AUTHORITY.test(value)) return undefined;
  const authority = URL_AUTHORITY.exec(value)?.[1];
  return authority !== undefined && VALID_AUTHORITY.test(authority) ? authority : undefined;
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1) at `pos`. */
function readInteger(b: Buffer, pos: number, prefixBits: number): { value: number; next: number } | undefined {
  const max = (1 << prefixBits) - 1;
  let value = b[pos]! & max;
  pos++;
  if (value < max) return { value, next: pos };
  // Four continuation bytes hold 28 bits: more than any header block this relay buffers.
  for (let shift = 0; shift <= 21; shift += 7) {
    if (pos >= b.length) return undefined;
    const byte = b[pos++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: pos };
  }
  return undefined;
}

/**
 * An HPACK string literal (RFC 7541 §5.2) at `pos`: its octets (undefined when its Huffman
 * encoding is invalid) and where the next field starts; undefined if the block ends inside it.
 */
function readString(b: Buffer, pos: number): { value: Buffer | undefined; next: number } | undefined {
  if (pos >= b.length) return undefined;
  const huffman = (b[pos]! & 0x80) !== 0;
  const length = readInteger(b, pos, 7);
  if (length === undefined || length.next + length.value > b.length) return undefined;
  const raw = b.subarray(length.next, length.next + length.value);
  return { value: huffman ? decodeHuffman(raw) : raw, next: length.next + length.value };
}

/** A string literal without Huffman coding. */
function encodeRawString(text: string): Buffer {
  const octets = Buffer.from(text, 'latin1');
  const prefix: number[] = [];
  if (octets.length < 0x7f) {
    prefix.push(octets.length);
  } else {
    prefix.push(0x7f);
    let rest = octets.length - 0x7f;
    while (rest >= 0x80) {
      prefix.push((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    prefix.push(rest);
  }
  return Buffer.concat([Buffer.from(prefix), octets]);
}

/** HEADERS (with the original flags and priority, unpadded) and CONTINUATION frames for `block`. */
function headerFrames(head: { flags: number; stream: number; priority: Buffer | undefined }, block: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const priority = head.priority ?? Buffer.alloc(0);
  let pos = 0;
  let first = true;
  while (first || pos < block.length) {
    const room = MIN_MAX_FRAME_SIZE - (first ? priority.length : 0);
    const fragment = block.subarray(pos, pos + room);
    pos += fragment.length;
    const last = pos >= block.length;
    const flags = first ? (head.flags & ~(FLAG_PADDED | FLAG_END_HEADERS)) | (last ? FLAG_END_HEADERS : 0) : last ? FLAG_END_HEADERS : 0;
    const payload = first ? Buffer.concat([priority, fragment]) : fragment;
    const header = Buffer.alloc(FRAME_HEADER_LENGTH);
    header.writeUIntBE(payload.length, 0, 3);
    header[3] = first ? FRAME_HEADERS : FRAME_CONTINUATION;
    header[4] = flags;
    header.writeUInt32BE(head.stream, 5);
    frames.push(header, payload);
    first = false;
  }
  return frames;
}
