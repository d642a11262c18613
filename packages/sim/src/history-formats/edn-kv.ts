/**
 * A key-value history as EDN maps, one a line (the format of Porcupine's kv test data and of
 * Jepsen's history.edn for kv workloads):
 *
 *     {:process 3, :type :invoke, :f :append, :key "4", :value "x 3 1 y"}
 *     {:process 3, :type :ok, :f :append, :key "4", :value "x 3 1 y"}
 *     {:process 1, :type :ok, :f :get, :key "9", :value ""}
 */
import type { History } from '../linearizability/history.js';
import type { KvInput, KvOutput } from '../linearizability/models/kv.js';
import { HistoryParseError } from './history-parse-error.js';
import { OperationPairing } from './pairing.js';

/** An EDN scalar as it appears in these maps. */
type EdnScalar = { kind: 'keyword'; name: string } | { kind: 'string'; value: string } | { kind: 'int'; value: number } | { kind: 'nil' };

/** Whether the text looks like EDN lines (its first non-blank line opens a map). */
export function looksLikeEdnLines(text: string): boolean {
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '');
  return first !== undefined && first.trimStart().startsWith('{');
}

/** Reads one flat EDN map of keyword keys to scalars. */
function parseEdnMap(lineNo: number, line: string): Map<string, EdnScalar> {
  let i = 0;
  const fail = (what: string): never => {
    throw new HistoryParseError(lineNo, `${what} at column ${i + 1}: ${JSON.stringify(line.slice(0, 120))}`);
  };
  const skip = (): void => {
    while (i < line.length && (line[i] === ' ' || line[i] === ',' || line[i] === '\t')) i++;
  };
  const scalar = (): EdnScalar => {
    skip();
    const c = line[i];
    if (c === ':') {
      const m = /^:([^\s,{}[\]()"]+)/.exec(line.slice(i));
      if (m === null) return fail('bad keyword');
      i += m[0].length;
      return { kind: 'keyword', name: m[1]! };
    }
    if (c === '"') {
      let out = '';
      i++;
      for (;;) {
        if (i >= line.length) return fail('unterminated string');
        const ch = line[i++]!;
        if (ch === '"') break;
        if (ch === '\\') {
          const esc = line[i++];
          if (esc === 'n') out += '\n';
          else if (esc === 't') out += '\t';
          else if (esc === 'r') out += '\r';
          else if (esc === '"' || esc === '\\') out += esc;
          else return fail('unsupported string escape');
        } else {
          out += ch;
        }
      }
      return { kind: 'string', value: out };
    }
    const m = /^(nil|-?\d+)(?=[\s,}]|$)/.exec(line.slice(i));
    if (m === null) return fail('expected a keyword, string, integer or nil');
    i += m[0].length;
    return m[1] === 'nil' ? { kind: 'nil' } : { kind: 'int', value: Number(m[1]) };
  };

  const map = new Map<string, EdnScalar>();
  skip();
  if (line[i] !== '{') fail('expected {');
  i++;
  for (;;) {
    skip();
    if (line[i] === '}') {
      i++;
      break;
    }
    if (i >= line.length) fail('unterminated map');
    const key = scalar();
    if (key.kind !== 'keyword') fail('map keys must be keywords');
    map.set((key as { name: string }).name, scalar());
  }
  skip();
  if (i < line.length) fail('trailing text after the map');
  return map;
}

function field(lineNo: number, map: Map<string, EdnScalar>, name: string): EdnScalar {
  const v = map.get(name);
  if (v === undefined) throw new HistoryParseError(lineNo, `missing :${name}`);
  return v;
}

function keyword(lineNo: number, map: Map<string, EdnScalar>, name: string): string {
  const v = field(lineNo, map, name);
  if (v.kind !== 'keyword') throw new HistoryParseError(lineNo, `:${name} must be a keyword`);
  return v.name;
}

function str(lineNo: number, map: Map<string, EdnScalar>, name: string): string {
  const v = field(lineNo, map, name);
  if (v.kind !== 'string') throw new HistoryParseError(lineNo, `:${name} must be a string`);
  return v.value;
}

/**
 * Parses EDN lines into a history for the kv model. Time is the order of the lines. `:fail`
 * drops the operation (it did not happen); `:info`, and an invocation never completed, make its
 * outcome unknown. A get that returns nil read a missing key, which the kv model reads as "".
 *
 * @throws HistoryParseError on a line it cannot read, or when no operation is found
 */
export function parseEdnKvHistory(text: string): History<KvInput, KvOutput> {
  const pairing = new OperationPairing<KvInput, KvOutput>();
  const lines = text.split(/\r?\n/);
  let events = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const map = parseEdnMap(lineNo, line);
    const processField = field(lineNo, map, 'process');
    // Nemesis events (:process :nemesis) are not client operations.
    if (processField.kind === 'keyword') continue;
    if (processField.kind !== 'int') throw new HistoryParseError(lineNo, ':process must be an integer');
    const process = processField.value;
    const type = keyword(lineNo, map, 'type');
    const f = keyword(lineNo, map, 'f');
    if (f !== 'get' && f !== 'put' && f !== 'append') {
      throw new HistoryParseError(lineNo, `unsupported :f :${f} (a kv history has :get, :put and :append)`);
    }
    const key = str(lineNo, map, 'key');
    events++;
    if (type === 'invoke') {
      const input: KvInput = f === 'get' ? { op: 'get', key } : { op: f, key, value: str(lineNo, map, 'value') };
      pairing.invoke(lineNo, process, f, input);
      continue;
    }
    if (type !== 'ok' && type !== 'fail' && type !== 'info') {
      throw new HistoryParseError(lineNo, `unsupported :type :${type} (expected :invoke, :ok, :fail or :info)`);
    }
    const open = pairing.open(lineNo, process, f);
    if (open.input.key !== key) {
      throw new HistoryParseError(lineNo, `process ${process} completes key ${JSON.stringify(key)} but invoked key ${JSON.stringify(open.input.key)} on line ${open.line}`);
    }
    if (type === 'ok') {
      if (f === 'get') {
        const v = field(lineNo, map, 'value');
        if (v.kind !== 'string' && v.kind !== 'nil') throw new HistoryParseError(lineNo, ':value of a get must be a string or nil');
        pairing.ok(process, { op: 'get', value: v.kind === 'string' ? v.value : '' });
      } else {
        pairing.ok(process, { op: f });
      }
    } else if (type === 'fail') {
      pairing.fail(process);
    } else {
      pairing.info(process);
    }
  }
  if (events === 0) throw new HistoryParseError(0, 'no operations found');
  return pairing.finish();
}
