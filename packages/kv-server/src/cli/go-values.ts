/**
 * Flag values read as etcd's Go flag package reads them, so that a value etcd accepts is
 * accepted here and a value etcd refuses is refused with etcd's reason (`parse error`,
 * `value out of range`). Each function returns the value or throws a GoValueError with
 * that reason; the caller adds which flag or variable it was.
 */

/** A value the Go flag package would refuse; `reason` is Go's text. */
export class GoValueError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const PARSE_ERROR = 'parse error';
const RANGE_ERROR = 'value out of range';

/**
 * strconv.ParseUint/ParseInt with base 0, as flag.Uint/Int64 use: decimal, `0x`/`0o`/`0b`
 * prefixes or a leading `0` for octal, and `_` between digits when a prefix is used (Go allows
 * underscores only with base 0 and a prefix or a leading 0).
 */
function parseGoInteger(text: string, signed: boolean, bits: 64 | 32): bigint {
  let s = text;
  let negative = false;
  if (signed && (s.startsWith('-') || s.startsWith('+'))) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  let base = 10;
  let digits = s;
  let prefixed = false;
  if (/^0[xX]/.test(s)) {
    base = 16;
    digits = s.slice(2);
    prefixed = true;
  } else if (/^0[oO]/.test(s)) {
    base = 8;
    digits = s.slice(2);
    prefixed = true;
  } else if (/^0[bB]/.test(s)) {
    base = 2;
    digits = s.slice(2);
    prefixed = true;
  } else if (s.length > 1 && s.startsWith('0')) {
    base = 8;
    digits = s.slice(1);
    prefixed = true;
  }
  if (digits.includes('_')) {
    // Go: underscores only with a base prefix, each between digits (or after the prefix).
    if (!prefixed || /__|_$/.test(digits)) {
      throw new GoValueError(PARSE_ERROR);
    }
    digits = digits.replace(/_/g, '');
  }
  const alphabet = '0123456789abcdef'.slice(0, base);
  if (digits === '' || ![...digits.toLowerCase()].every((c) => alphabet.includes(c))) {
    throw new GoValueError(PARSE_ERROR);
  }
  let value = 0n;
  for (const c of digits.toLowerCase()) value = value * BigInt(base) + BigInt(alphabet.indexOf(c));
  if (negative) value = -value;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  if (value > max || value < min) throw new GoValueError(RANGE_ERROR);
  return value;
}

/** flag.Uint / flag.Uint64 (64-bit): as a bigint, since 2^64-1 is a valid value. */
export function parseGoUint(text: string): bigint {
  return parseGoInteger(text, false, 64);
}

/** etcd's Uint32Value (`--max-concurrent-streams`): strconv.ParseUint(s, 0, 32). */
export function parseGoUint32(text: string): number {
  return Number(parseGoInteger(text, false, 32));
}

/** flag.Int64 (`--quota-backend-bytes`). */
export function parseGoInt64(text: string): bigint {
  return parseGoInteger(text, true, 64);
}

/** flag.Int (64-bit on the platforms etcd ships for). */
export function parseGoInt(text: string): bigint {
  return parseGoInteger(text, true, 64);
}

/** strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False. */
export function parseGoBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new GoValueError(PARSE_ERROR);
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * time.ParseDuration, in milliseconds (fractions kept): `300ms`, `1.5h`, `2h45m`, `-1s`, `0`.
 * A number without a unit is an error except `0`.
 */
export function parseGoDuration(text: string): number {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new GoValueError(PARSE_ERROR);
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (s !== '') {
    const m = part.exec(s);
    if (m === null || (m[1] === '' && (m[2] === undefined || m[2] === ''))) throw new GoValueError(PARSE_ERROR);
    const number = Number(`${m[1] === '' ? '0' : m[1]}.${m[2] ?? '0'}`);
    total += number * DURATION_UNITS[m[3]!]!;
    s = s.slice(m[0].length);
  }
  return sign * total;
}
