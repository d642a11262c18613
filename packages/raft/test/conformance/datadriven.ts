/**
 * A reader for cockroachdb's "datadriven" test format, the format of etcd raft's scenario files
 * (see ../shared/conformance/README.md beside the repository, and github.com/cockroachdb/datadriven):
 *
 *     # comment
 *     cmd arg key=val key=(a,b,c) \
 *         more-args-on-a-continuation-line
 *     optional input lines
 *     ----
 *     expected output, terminated by a blank line
 *
 * or, when the expected output itself contains blank lines, the long form
 *
 *     cmd
 *     ----
 *     ----
 *     expected output
 *
 *     with blank lines
 *     ----
 *     ----
 *
 * The reader follows datadriven's test_data_reader.go and line_parser.go line for line, so that
 * `expected` is byte-for-byte what the Go framework compares against (every line ends in "\n").
 */

import { readFileSync } from 'node:fs';

/** One argument of a directive: `key`, `key=val` or `key=(v1, v2, ...)`. */
export interface CmdArg {
  key: string;
  vals: string[];
}

/** One directive of a datadriven file with its input and expected output. */
export interface TestData {
  /** `file:line` of the directive line, for error messages. */
  pos: string;
  cmd: string;
  cmdArgs: CmdArg[];
  /** The lines between the directive and `----`, trimmed. */
  input: string;
  /** The expected output; every line ends in "\n", empty when there is none. */
  expected: string;
}

/** A directive that does not parse, or an argument that is missing or malformed. */
export class DatadrivenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatadrivenError';
  }
}

/**
 * Parses one directive line into its command and arguments (datadriven's ParseLine). Values in
 * parentheses may themselves contain balanced parentheses.
 */
export function parseLine(rawLine: string): { cmd: string; cmdArgs: CmdArg[] } {
  const origLine = rawLine.trim();
  let line = origLine;
  const fail = (): never => {
    const column = origLine.length - line.length + 1;
    throw new DatadrivenError(`cannot parse directive at column ${column}: ${origLine}`);
  };
  if (line === '') return { cmd: '', cmdArgs: [] };

  // Removes the prefix of `line` up to (not including) one of `chars` and returns it.
  const until = (chars: string): string => {
    let idx = line.length;
    for (let i = 0; i < line.length; i++) {
      if (chars.includes(line[i]!)) {
        idx = i;
        break;
      }
    }
    const res = line.slice(0, idx);
    line = line.slice(idx);
    return res;
  };

  const cmd = until(' ');
  if (cmd === '') fail();
  line = line.trim();
  const cmdArgs: CmdArg[] = [];
  while (line !== '') {
    const key = until(' =');
    if (key === '') fail();
    const arg: CmdArg = { key, vals: [] };
    if (line !== '' && line[0] === '=') {
      line = line.slice(1);
      if (line === '' || line[0] === ' ') {
        arg.vals = [''];
      } else if (line[0] !== '(') {
        arg.vals = [until(' ')];
      } else {
        line = line.slice(1);
        for (let done = false; !done; ) {
          const chars = [...line];
          let pos = 0;
          // Advances pos to just after the ')' that closes an already opened '('.
          const untilMatchedParen = (): void => {
            while (pos < chars.length) {
              pos++;
              if (chars[pos - 1] === ')') return;
              if (chars[pos - 1] === '(') untilMatchedParen();
            }
            fail();
          };
          while (pos < chars.length && chars[pos] !== ')' && chars[pos] !== ',') {
            pos++;
            if (chars[pos - 1] === '(') untilMatchedParen();
          }
          if (pos === chars.length) fail();
          done = chars[pos] === ')';
          arg.vals.push(chars.slice(0, pos).join(''));
          line = chars
            .slice(pos + 1)
            .join('')
            .trim();
        }
      }
    }
    cmdArgs.push(arg);
    line = line.trim();
  }
  return { cmd, cmdArgs };
}

/** Parses a whole datadriven file. `file` names it in each directive's `pos`. */
export function parseDatadriven(text: string, file: string): TestData[] {
  // bufio.Scanner splits on "\n" and drops a trailing "\r".
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let next = 0;
  const scan = (): string | undefined => (next < lines.length ? lines[next++] : undefined);

  const out: TestData[] = [];
  for (let raw = scan(); raw !== undefined; raw = scan()) {
    const pos = `${file}:${next}`;
    let line = raw.trim();
    if (line.startsWith('#')) continue;
    // A directive line may continue on the next line after a trailing backslash.
    while (line.endsWith('\\')) {
      const cont = scan();
      if (cont === undefined) break;
      line = `${line.slice(0, -1)} ${cont.trim()}`;
    }
    let parsed: { cmd: string; cmdArgs: CmdArg[] };
    try {
      parsed = parseLine(line);
    } catch (e) {
      throw new DatadrivenError(`${pos}: ${(e as Error).message}`);
    }
    if (parsed.cmd === '') continue;

    const d: TestData = { pos, cmd: parsed.cmd, cmdArgs: parsed.cmdArgs, input: '', expected: '' };
    out.push(d);
    if (d.cmd === 'subtest') continue;

    let input = '';
    let separator = false;
    for (let l = scan(); l !== undefined; l = scan()) {
      if (l === '----') {
        separator = true;
        break;
      }
      input += `${l}\n`;
    }
    d.input = input.trim();
    if (separator) d.expected = readExpected(scan);
  }
  return out;
}

function readExpected(scan: () => string | undefined): string {
  let buf = '';
  let line = scan();
  if (line === undefined) return buf;
  if (line === '----') {
    // Long form: the output ends at two successive "----" lines.
    for (let l = scan(); l !== undefined; l = scan()) {
      if (l === '----') {
        const l2 = scan();
        if (l2 !== undefined) {
          if (l2 === '----') break;
          buf += `${l}\n${l2}\n`;
          continue;
        }
      }
      buf += `${l}\n`;
    }
    return buf;
  }
  // Short form: the output ends at the first blank line.
  for (;;) {
    if (line.trim() === '') break;
    buf += `${line}\n`;
    const l = scan();
    if (l === undefined) break;
    line = l;
  }
  return buf;
}

/** The argument named `key`, if the directive has it. */
export function scanArg(d: TestData, key: string): CmdArg | undefined {
  return d.cmdArgs.find((a) => a.key === key);
}

export function hasArg(d: TestData, key: string): boolean {
  return scanArg(d, key) !== undefined;
}

function argError(d: TestData, msg: string): DatadrivenError {
  return new DatadrivenError(`${d.pos}: ${d.cmd}: ${msg}`);
}

/** Parses a non-negative or negative decimal integer, refusing anything else. */
export function parseIntStrict(s: string): number | undefined {
  const t = s.trim();
  if (!/^-?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses Go's strconv.ParseBool spellings. */
export function parseBoolStrict(s: string): boolean | undefined {
  switch (s.trim()) {
    case '1':
    case 't':
    case 'T':
    case 'true':
    case 'TRUE':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'false':
    case 'FALSE':
    case 'False':
      return false;
    default:
      return undefined;
  }
}

/** The single value of argument `key` as a string; throws naming `d.pos` when missing. */
export function argString(d: TestData, key: string): string;
export function argString(d: TestData, key: string, dflt: string): string;
export function argString(d: TestData, key: string, dflt?: string): string {
  const a = scanArg(d, key);
  if (a === undefined) {
    if (dflt !== undefined) return dflt;
    throw argError(d, `missing argument ${key}`);
  }
  if (a.vals.length !== 1) throw argError(d, `argument ${key}: expected one value, got ${a.vals.length}`);
  return a.vals[0]!;
}

/** The values of argument `key` as strings (empty when missing). */
export function argStrings(d: TestData, key: string): string[] {
  return scanArg(d, key)?.vals ?? [];
}

/** The single value of argument `key` as an integer; throws naming `d.pos` when missing. */
export function argInt(d: TestData, key: string): number;
export function argInt(d: TestData, key: string, dflt: number): number;
export function argInt(d: TestData, key: string, dflt?: number): number {
  const a = scanArg(d, key);
  if (a === undefined) {
    if (dflt !== undefined) return dflt;
    throw argError(d, `missing argument ${key}`);
  }
  if (a.vals.length !== 1) throw argError(d, `argument ${key}: expected one value, got ${a.vals.length}`);
  const n = parseIntStrict(a.vals[0]!);
  if (n === undefined) throw argError(d, `argument ${key}: not an integer: ${JSON.stringify(a.vals[0])}`);
  return n;
}

/** The values of argument `key` as integers (empty when missing). */
export function argInts(d: TestData, key: string): number[] {
  return argStrings(d, key).map((v) => {
    const n = parseIntStrict(v);
    if (n === undefined) throw argError(d, `argument ${key}: not an integer: ${JSON.stringify(v)}`);
    return n;
  });
}

/** The single value of argument `key` as a boolean (`key` alone means true). */
export function argBool(d: TestData, key: string, dflt = false): boolean {
  const a = scanArg(d, key);
  if (a === undefined) return dflt;
  if (a.vals.length === 0) return true;
  if (a.vals.length !== 1) throw argError(d, `argument ${key}: expected one value, got ${a.vals.length}`);
  const b = parseBoolStrict(a.vals[0]!);
  if (b === undefined) throw argError(d, `argument ${key}: not a boolean: ${JSON.stringify(a.vals[0])}`);
  return b;
}

/** Integers among the keyless arguments, e.g. `stabilize 1 2` (values of args without `=`). */
export function positionalInts(d: TestData): number[] {
  const out: number[] = [];
  for (const a of d.cmdArgs) {
    if (a.vals.length !== 0) continue;
    const n = parseIntStrict(a.key);
    if (n === undefined) throw argError(d, `unexpected argument ${a.key}`);
    out.push(n);
  }
  return out;
}

const LOG_LINE = /^\s*(INFO|DEBUG|WARN|ERROR) /;

/**
 * Drops the lines written by a logger (after leading whitespace: INFO, DEBUG, WARN or ERROR and
 * a space): the conformance rules compare behaviour, not log wording.
 */
export function stripLogLines(s: string): string {
  return s
    .split('\n')
    .filter((l) => !LOG_LINE.test(l))
    .join('\n');
}

/** The outcome of one directive. */
export interface CaseResult {
  pos: string;
  cmd: string;
  expected: string;
  actual: string;
  ok: boolean;
}

/** Produces the output of one directive (the datadriven test function). */
export type DatadrivenHandler = (d: TestData) => string;

/**
 * Runs every directive of a datadriven text through `handler` and compares its output with the
 * expected output, both normalized (by default: log lines stripped). A handler that throws fails that directive
 * and stops the file (as t.Fatal does in Go): later directives depend on the state it left.
 */
export function runDatadrivenText(
  text: string,
  file: string,
  handler: DatadrivenHandler,
  normalize: (s: string) => string = stripLogLines,
): CaseResult[] {
  const results: CaseResult[] = [];
  for (const d of parseDatadriven(text, file)) {
    const expected = normalize(d.expected);
    let actual: string;
    try {
      actual = handler(d);
    } catch (e) {
      const err = e as Error;
      results.push({
        pos: d.pos,
        cmd: d.cmd,
        expected,
        actual: `<handler threw> ${err.stack ?? String(err)}\n`,
        ok: false,
      });
      break;
    }
    if (actual !== '' && !actual.endsWith('\n')) actual += '\n';
    actual = normalize(actual);
    results.push({ pos: d.pos, cmd: d.cmd, expected, actual, ok: expected === actual });
  }
  return results;
}

/** runDatadrivenText on a file read from disk; `pos` names the file by its path. */
export function runDatadrivenFile(
  path: string,
  handler: DatadrivenHandler,
  normalize?: (s: string) => string,
): CaseResult[] {
  return runDatadrivenText(readFileSync(path, 'utf8'), path, handler, normalize);
}

/**
 * A short human-readable account of a failed case: its position, then the first lines that
 * differ between expected and actual, with a little context.
 */
export function describeMismatch(r: CaseResult, context = 3, maxLines = 12): string {
  const exp = r.expected.split('\n');
  const act = r.actual.split('\n');
  let i = 0;
  while (i < exp.length && i < act.length && exp[i] === act[i]) i++;
  const from = Math.max(0, i - context);
  const lines = [`${r.pos}: ${r.cmd}: output differs at line ${i + 1}`];
  // Lines that differ from the other side are marked with '!'.
  const show = (label: string, mine: string[], other: string[]): void => {
    lines.push(`  ${label}:`);
    const end = Math.min(mine.length, i + maxLines);
    for (let j = from; j < end; j++) lines.push(`  ${mine[j] === other[j] ? ' ' : '!'} | ${mine[j]}`);
  };
  show('expected', exp, act);
  show('actual', act, exp);
  return lines.join('\n');
}
