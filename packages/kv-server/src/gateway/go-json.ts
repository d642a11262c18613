/**
 * JSON read as Go's encoding/json reads it, for the gateway: etcd's gateway decodes request
 * bodies with Go's json.Decoder, and clients see Go's own syntax error texts ("invalid character
 * 'g' looking for beginning of value", "unexpected EOF"). The parser follows the states of Go's
 * scanner (scanner.go) so that the first byte it refuses, and the words it uses, are Go's.
 *
 * Values keep what the later steps need: numbers their literal text (an int64 must not pass
 * through a double), strings their raw bytes between the quotes (jsonpb parses a quoted int64
 * by handing those bytes to json.Unmarshal as they are).
 */

/**
 * A parsed JSON value. Objects keep the last value of a repeated key, as Go's map does; `kind` is
 * the word Go's type errors use for it ("cannot unmarshal string into ...").
 */
export type GoJsonValue =
  | { readonly kind: 'object'; readonly entries: ReadonlyMap<string, GoJsonValue> }
  | { readonly kind: 'array'; readonly items: readonly GoJsonValue[] }
  | { readonly kind: 'string'; readonly value: string; readonly raw: Buffer }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' };

/** A body Go's decoder refuses: `message` is Go's error text. */
export class GoJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoJsonError';
  }
}

/** The input ended inside a value (json.Decoder: "unexpected EOF"). */
export class GoJsonEofError extends GoJsonError {
  constructor(message = 'unexpected EOF') {
    super(message);
    this.name = 'GoJsonEofError';
  }
}

/** How Go's scanner names a byte in its errors (scanner.go quoteChar). */
export function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return '\'"\'';
  return `'${goQuoteRune(c).slice(1, -1)}'`;
}

/** strconv.Quote of one rune below U+0100 (a byte read as a rune, as Go's string(byte) does). */
function goQuoteRune(c: number): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\', 0x22: '\\"' };
  const n = named[c];
  if (n !== undefined) return `"${n}"`;
  if (c < 0x20 || c === 0x7f) return `"\\x${c.toString(16).padStart(2, '0')}"`;
  // Go's IsPrint: the C1 controls, the no-break space and the soft hyphen are not printable.
  if ((c >= 0x80 && c < 0xa0) || c === 0xa0 || c === 0xad) return `"\\u${c.toString(16).padStart(4, '0')}"`;
  return `"${String.fromCharCode(c)}"`;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** A recursive-descent reading with the error texts of Go's state machine. */
class Reader {
  pos: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly eof: () => GoJsonError,
  ) {
    this.pos = start;
  }

  private fail(c: number, context: string): never {
    throw new GoJsonError(`invalid character ${quoteChar(c)} ${context}`);
  }

  /** The next byte, or the end-of-input error. */
  private peek(): number {
    if (this.pos >= this.buf.length) throw this.eof();
    return this.buf[this.pos]!;
  }

  skipSpace(): void {
    while (this.pos < this.buf.length && isSpace(this.buf[this.pos]!)) this.pos++;
  }

  /** A value; whitespace before it already skipped. `top`: a number may end at the input's end. */
  value(top: boolean): GoJsonValue {
    const c = this.peek();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || isDigit(c)) return this.number(top);
    if (c === 0x74) return this.literal('true', { kind: 'bool', value: true });
    if (c === 0x66) return this.literal('false', { kind: 'bool', value: false });
    if (c === 0x6e) return this.literal('null', { kind: 'null' });
    return this.fail(c, 'looking for beginning of value');
  }

  private object(): GoJsonValue {
    this.pos++;
    const entries = new Map<string, GoJsonValue>();
    this.skipSpace();
    if (this.peek() === 0x7d) {
      this.pos++;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skipSpace();
      const q = this.peek();
      if (q !== 0x22) this.fail(q, 'looking for beginning of object key string');
      const key = this.string();
      this.skipSpace();
      const colon = this.peek();
      if (colon !== 0x3a) this.fail(colon, 'after object key');
      this.pos++;
      this.skipSpace();
      entries.set(key.value, this.value(false));
      this.skipSpace();
      const next = this.peek();
      this.pos++;
      if (next === 0x7d) return { kind: 'object', entries };
      if (next !== 0x2c) this.fail(next, 'after object key:value pair');
    }
  }

  private array(): GoJsonValue {
    this.pos++;
    const items: GoJsonValue[] = [];
    this.skipSpace();
    if (this.peek() === 0x5d) {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      this.skipSpace();
      items.push(this.value(false));
      this.skipSpace();
      const next = this.peek();
      this.pos++;
      if (next === 0x5d) return { kind: 'array', items };
      if (next !== 0x2c) this.fail(next, 'after array element');
    }
  }

  private string(): { kind: 'string'; value: string; raw: Buffer } {
    const start = ++this.pos;
    let hasEscape = false;
    for (;;) {
      const c = this.peek();
      if (c === 0x22) break;
      if (c < 0x20) this.fail(c, 'in string literal');
      this.pos++;
      if (c !== 0x5c) continue;
      hasEscape = true;
      const e = this.peek();
      this.pos++;
      if (e === 0x75) {
        for (let i = 0; i < 4; i++) {
          const h = this.peek();
          if (!isHex(h)) this.fail(h, 'in \\u hexadecimal character escape');
          this.pos++;
        }
      } else if (!'bfnrt\\/"'.includes(String.fromCharCode(e))) {
        this.fail(e, 'in string escape code');
      }
    }
    const raw = this.buf.subarray(start, this.pos);
    this.pos++;
    // The escapes are JSON's, so JSON.parse reads them; Go too replaces a lone surrogate (and
    // invalid UTF-8) with U+FFFD.
    const text = hasEscape ? (JSON.parse(`"${raw.toString('utf8')}"`) as string) : raw.toString('utf8');
    return { kind: 'string', value: text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'), raw };
  }

  private number(top: boolean): GoJsonValue {
    const start = this.pos;
    // Inside an object or array the input cannot end after a number; at the top it can.
    const next = (): number | undefined => {
      if (this.pos < this.buf.length) return this.buf[this.pos]!;
      if (top) return undefined;
      throw this.eof();
    };
    if (this.buf[this.pos] === 0x2d) {
      this.pos++;
      const c = this.peek();
      if (!isDigit(c)) this.fail(c, 'in numeric literal');
    }
    if (this.buf[this.pos] === 0x30) {
      this.pos++;
    } else {
      while (next() !== undefined && isDigit(next()!)) this.pos++;
    }
    if (next() === 0x2e) {
      this.pos++;
      const c = this.peek();
      if (!isDigit(c)) this.fail(c, 'after decimal point in numeric literal');
      while (next() !== undefined && isDigit(next()!)) this.pos++;
    }
    const e = next();
    if (e === 0x65 || e === 0x45) {
      this.pos++;
      let c = this.peek();
      if (c === 0x2b || c === 0x2d) {
        this.pos++;
        c = this.peek();
      }
      if (!isDigit(c)) this.fail(c, 'in exponent of numeric literal');
      while (next() !== undefined && isDigit(next()!)) this.pos++;
    }
    return { kind: 'number', text: this.buf.toString('latin1', start, this.pos) };
  }

  private literal(word: string, value: GoJsonValue): GoJsonValue {
    for (let i = 0; i < word.length; i++) {
      const c = this.peek();
      if (c !== word.charCodeAt(i)) this.fail(c, `in literal ${word} (expecting ${quoteChar(word.charCodeAt(i))})`);
      this.pos++;
    }
    return value;
  }
}

/**
 * json.Decoder.Decode: the next value of a body from `start`. Undefined when only whitespace
 * is left (Go's io.EOF: the gateway reads that as an empty message); bytes after the value are
 * left for the next call.
 */
export function decodeNext(buf: Buffer, start: number): { value: GoJsonValue; end: number } | undefined {
  const r = new Reader(buf, start, () => new GoJsonEofError());
  r.skipSpace();
  if (r.pos >= buf.length) return undefined;
  const value = r.value(true);
  return { value, end: r.pos };
}

/** json.Unmarshal's syntax check of a whole input: one value and nothing but space after it. */
export function unmarshalWhole(buf: Buffer): GoJsonValue {
  const r = new Reader(buf, 0, () => new GoJsonEofError('unexpected end of JSON input'));
  r.skipSpace();
  const value = r.value(true);
  r.skipSpace();
  if (r.pos < buf.length) throw new GoJsonError(`invalid character ${quoteChar(buf[r.pos]!)} after top-level value`);
  return value;
}

/**
 * A string as Go's encoding/json writes it (Go 1.19, etcd 3.4's): `<`, `>`, `&`, U+2028 and
 * U+2029 escaped, control characters other than \n \r \t as \u00XX.
 */
export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x22) out += '\\"';
    else if (ch === 0x5c) out += '\\\\';
    else if (ch === 0x0a) out += '\\n';
    else if (ch === 0x0d) out += '\\r';
    else if (ch === 0x09) out += '\\t';
    else if (ch < 0x20 || ch === 0x3c || ch === 0x3e || ch === 0x26 || ch === 0x2028 || ch === 0x2029) out += `\\u${ch.toString(16).padStart(4, '0')}`;
    else if (ch >= 0xd800 && ch <= 0xdfff) {
      const pair = ch <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (pair) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else {
        out += '\ufffd';
      }
    } else out += s[i]!;
  }
  return `${out}"`;
}
