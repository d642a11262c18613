import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GoValueError, parseGoBool, parseGoDuration, parseGoInt64, parseGoUint, parseGoUint32 } from '../src/cli/go-values.js';

function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof GoValueError) return e.reason;
    throw e;
  }
  return 'accepted';
}

describe('Go flag values', () => {
  it('integers in base 0, with Go\'s reasons for refusals', () => {
    expect(parseGoUint('100')).toBe(100n);
    expect(parseGoUint('0x1F')).toBe(31n);
    expect(parseGoUint('0o17')).toBe(15n);
    expect(parseGoUint('017')).toBe(15n);
    expect(parseGoUint('0b101')).toBe(5n);
    expect(parseGoUint('0x_1f')).toBe(31n);
    expect(parseGoUint('0')).toBe(0n);
    expect(parseGoUint('18446744073709551615')).toBe(2n ** 64n - 1n);
    expect(reason(() => parseGoUint('18446744073709551616'))).toBe('value out of range');
    expect(reason(() => parseGoUint('-1'))).toBe('parse error');
    expect(reason(() => parseGoUint('1_000'))).toBe('parse error');
    expect(reason(() => parseGoUint('09'))).toBe('parse error');
    expect(reason(() => parseGoUint(''))).toBe('parse error');
    expect(reason(() => parseGoUint(' 1'))).toBe('parse error');
    expect(parseGoInt64('-9223372036854775808')).toBe(-(2n ** 63n));
    expect(reason(() => parseGoInt64('9223372036854775808'))).toBe('value out of range');
    expect(parseGoUint32('4294967295')).toBe(4294967295);
    expect(reason(() => parseGoUint32('4294967296'))).toBe('value out of range');
  });

  // A fixed seed that always runs, plus a fresh one each run; fast-check's failure report
  // starts with the seed and path that replay it.
  it.each([['fixed', 20_261_207], ['fresh', Date.now() % 2 ** 31]])(
    'every decimal, hex and octal form of a uint64 reads back as that number (%s seed %i)',
    (_kind, seed) => {
      const details = fc.check(
        fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
          expect(parseGoUint(n.toString())).toBe(n);
          expect(parseGoUint(`0x${n.toString(16)}`)).toBe(n);
          expect(parseGoUint(`0o${n.toString(8)}`)).toBe(n);
        }),
        { seed, numRuns: 300 },
      );
      if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `failed with seed ${seed}`);
      expect(details.numRuns).toBe(300);
    },
  );

  it('bools as strconv.ParseBool', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(f)).toBe(false);
    for (const bad of ['yes', 'tRUE', '', 'on']) expect(reason(() => parseGoBool(bad))).toBe('parse error');
  });

  it('durations as time.ParseDuration, in milliseconds', () => {
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('300ms')).toBe(300);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('2h45m')).toBe(9_900_000);
    expect(parseGoDuration('-1s')).toBe(-1000);
    expect(parseGoDuration('1us')).toBe(0.001);
    expect(parseGoDuration('.5s')).toBe(500);
    for (const bad of ['5', '', 's', '1x', '1.s.', '-']) expect(reason(() => parseGoDuration(bad))).toBe('parse error');
  });
});
