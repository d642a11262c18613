/**
 * Jepsen's text log of a register test (as in Jepsen's etcd and Porcupine's test data):
 *
 *     INFO  jepsen.util - 3	:invoke	:cas	[1 4]
 *     INFO  jepsen.util - 3	:fail	:cas	[1 4]
 *
 * One line per event: process, type (:invoke, :ok, :fail, :info), function (:read, :write,
 * :cas) and value (nil, an integer, or `[expected next]` for a cas). Lines from other loggers
 * and from the nemesis are skipped.
 */
import type { History } from '../linearizability/history.js';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../linearizability/models/register.js';
import { HistoryParseError } from './history-parse-error.js';
import { OperationPairing } from './pairing.js';

const LINE = /^\S+\s+jepsen\.util\s+-\s+(\S+)\s+:(invoke|ok|fail|info)\s+:(\S+)(?:\s+(.*?))?\s*$/;
const INTEGER = /^-?\d+$/;
const CAS = /^\[\s*(\S+)\s+(\S+)\s*\]$/;

/** Whether the text looks like a Jepsen log (some line comes from jepsen.util). */
export function looksLikeJepsenLog(text: string): boolean {
  return /^\S+\s+jepsen\.util\s+-\s/m.test(text);
}

function value(line: number, text: string | undefined, what: string): RegisterValue {
  if (text === undefined || !INTEGER.test(text)) throw new HistoryParseError(line, `${what} must be an integer, got ${text ?? 'nothing'}`);
  return Number(text);
}

function readResult(line: number, text: string | undefined): RegisterValue | null {
  if (text === 'nil') return null;
  return value(line, text, 'a read result');
}

function casArgs(line: number, text: string | undefined): { expected: RegisterValue; next: RegisterValue } {
  const m = text === undefined ? null : CAS.exec(text);
  if (m === null) throw new HistoryParseError(line, `a cas value must look like [expected next], got ${text ?? 'nothing'}`);
  return { expected: value(line, m[1], 'a cas argument'), next: value(line, m[2], 'a cas argument') };
}

/**
 * Parses a Jepsen register log into a history for the register model. Time is the order of
 * the lines. `:fail` on a cas is a completed cas that did not swap (`ok: false`); `:fail` on a
 * read or write means it did not happen and drops it; `:info` (and an invocation never
 * completed) means the outcome is unknown.
 *
 * @throws HistoryParseError on a jepsen.util line it cannot read, or when no operation is found
 */
export function parseJepsenLog(text: string): History<RegisterInput, RegisterOutput> {
  const pairing = new OperationPairing<RegisterInput, RegisterOutput>();
  const lines = text.split(/\r?\n/);
  let events = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!;
    if (!/jepsen\.util\s+-\s/.test(line)) continue;
    const m = LINE.exec(line);
    if (m === null) throw new HistoryParseError(lineNo, `not a Jepsen operation line: ${JSON.stringify(line.slice(0, 120))}`);
    const [, processText, type, f, arg] = m as unknown as [string, string, string, string, string | undefined];
    // The nemesis logs its own events (":nemesis :info :start"); they are not client operations.
    if (!INTEGER.test(processText)) continue;
    const process = Number(processText);
    if (f !== 'read' && f !== 'write' && f !== 'cas') {
      throw new HistoryParseError(lineNo, `unsupported function :${f} (a register log has :read, :write and :cas)`);
    }
    events++;
    if (type === 'invoke') {
      const input: RegisterInput =
        f === 'read' ? { op: 'read' } : f === 'write' ? { op: 'write', value: value(lineNo, arg, 'a written value') } : { op: 'cas', ...casArgs(lineNo, arg) };
      pairing.invoke(lineNo, process, f, input);
      continue;
    }
    pairing.open(lineNo, process, f);
    if (type === 'ok') {
      const output: RegisterOutput =
        f === 'read' ? { op: 'read', value: readResult(lineNo, arg) } : f === 'write' ? { op: 'write' } : { op: 'cas', ok: true };
      pairing.ok(process, output);
    } else if (type === 'fail') {
      // A failed cas is the store answering "the value was not `expected`": an observation
      // that constrains the order, as Porcupine reads these logs. Anything else that failed
      // did not take effect.
      if (f === 'cas') pairing.ok(process, { op: 'cas', ok: false });
      else pairing.fail(process);
    } else {
      pairing.info(process);
    }
  }
  if (events === 0) throw new HistoryParseError(0, 'no Jepsen operation lines found');
  return pairing.finish();
}
