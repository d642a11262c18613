/** The parsers of Jepsen logs and EDN lines. */
import { describe, expect, it } from 'vitest';
import { parseJepsenLog } from '../../src/history-formats/jepsen-log.js';
import { parseEdnKvHistory } from '../../src/history-formats/edn-kv.js';
import { detectHistoryFormat } from '../../src/history-formats/detect-format.js';
import { HistoryParseError } from '../../src/history-formats/history-parse-error.js';

const jepsen = (lines: string[]): string => lines.map((l) => `INFO  jepsen.util - ${l.replaceAll(' ', '\t')}`).join('\n');

function parseError(fn: () => unknown): HistoryParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HistoryParseError) return e;
    throw e;
  }
  throw new Error('expected a HistoryParseError');
}

describe('parseJepsenLog', () => {
  it('pairs invocations with completions per process, time being line order', () => {
    const h = parseJepsenLog(jepsen(['0 :invoke :write 3', '1 :invoke :read nil', '1 :ok :read nil', '0 :ok :write 3', '1 :invoke :read nil', '1 :ok :read 3']));
    expect(h).toEqual([
      { clientId: 0, input: { op: 'write', value: 3 }, call: 0, return: 3, outcome: 'ok', output: { op: 'write' } },
      { clientId: 1, input: { op: 'read' }, call: 1, return: 2, outcome: 'ok', output: { op: 'read', value: null } },
      { clientId: 1, input: { op: 'read' }, call: 4, return: 5, outcome: 'ok', output: { op: 'read', value: 3 } },
    ]);
  });

  it('reads a failed cas as a cas that did not swap, and cas values as [expected next]', () => {
    const h = parseJepsenLog(jepsen(['2 :invoke :cas [1 4]', '2 :fail :cas [1 4]', '2 :invoke :cas [0 2]', '2 :ok :cas [0 2]']));
    expect(h.map((op) => [op.input, op.outcome === 'ok' ? op.output : undefined])).toEqual([
      [{ op: 'cas', expected: 1, next: 4 }, { op: 'cas', ok: false }],
      [{ op: 'cas', expected: 0, next: 2 }, { op: 'cas', ok: true }],
    ]);
  });

  it('drops a failed read or write: it did not happen', () => {
    const h = parseJepsenLog(jepsen(['0 :invoke :read nil', '0 :fail :read :timed-out', '0 :invoke :write 1', '0 :fail :write 1']));
    expect(h).toEqual([]);
  });

  it('makes :info and never-completed invocations of unknown outcome', () => {
    const h = parseJepsenLog(jepsen(['4 :invoke :write 3', '4 :info :write :timed-out', '9 :invoke :cas [1 2]']));
    expect(h.map((op) => [op.clientId, op.outcome, op.return])).toEqual([
      [4, 'unknown', Infinity],
      [9, 'unknown', Infinity],
    ]);
  });

  it('skips other loggers and the nemesis', () => {
    const text = ['INFO  jepsen.core - Running test', 'INFO  jepsen.util - :nemesis\t:info\t:start\tnil', jepsen(['0 :invoke :read nil', '0 :ok :read 1'])].join('\n');
    expect(parseJepsenLog(text)).toHaveLength(1);
  });

  it('says which line it cannot read', () => {
    expect(parseError(() => parseJepsenLog(jepsen(['0 :invoke :write 1', '0 :ok :read 1']))).line).toBe(2);
    expect(parseError(() => parseJepsenLog(jepsen(['0 :ok :write 1']))).message).toMatch(/no operation in flight/);
    expect(parseError(() => parseJepsenLog(jepsen(['0 :invoke :write 1', '0 :invoke :write 2']))).message).toMatch(/has not completed/);
    expect(parseError(() => parseJepsenLog(jepsen(['0 :invoke :cas 1']))).message).toMatch(/\[expected next\]/);
    expect(parseError(() => parseJepsenLog(jepsen(['0 :invoke :add 1']))).message).toMatch(/unsupported function/);
    expect(parseError(() => parseJepsenLog('hello\nworld')).line).toBe(0);
  });
});

describe('parseEdnKvHistory', () => {
  it('pairs invocations with completions per process', () => {
    const h = parseEdnKvHistory(
      [
        '{:process 1, :type :invoke, :f :append, :key "4", :value "x 1 0 y"}',
        '{:process 2, :type :invoke, :f :get, :key "4", :value nil}',
        '{:process 2, :type :ok, :f :get, :key "4", :value ""}',
        '{:process 1, :type :ok, :f :append, :key "4", :value "x 1 0 y"}',
        '{:process 2, :type :invoke, :f :put, :key "5", :value "a \\"q\\""}',
        '{:process 2, :type :ok, :f :put, :key "5", :value "a \\"q\\""}',
      ].join('\n'),
    );
    expect(h).toEqual([
      { clientId: 1, input: { op: 'append', key: '4', value: 'x 1 0 y' }, call: 0, return: 3, outcome: 'ok', output: { op: 'append' } },
      { clientId: 2, input: { op: 'get', key: '4' }, call: 1, return: 2, outcome: 'ok', output: { op: 'get', value: '' } },
      { clientId: 2, input: { op: 'put', key: '5', value: 'a "q"' }, call: 4, return: 5, outcome: 'ok', output: { op: 'put' } },
    ]);
  });

  it('drops :fail, and makes :info and open invocations unknown', () => {
    const h = parseEdnKvHistory(
      [
        '{:process 0, :type :invoke, :f :put, :key "a", :value "1"}',
        '{:process 0, :type :fail, :f :put, :key "a", :value "1"}',
        '{:process 0, :type :invoke, :f :put, :key "a", :value "2"}',
        '{:process 0, :type :info, :f :put, :key "a", :value "2"}',
        '{:process 1, :type :invoke, :f :get, :key "a", :value nil}',
      ].join('\n'),
    );
    expect(h.map((op) => [op.input, op.outcome])).toEqual([
      [{ op: 'put', key: 'a', value: '2' }, 'unknown'],
      [{ op: 'get', key: 'a' }, 'unknown'],
    ]);
  });

  it('says which line it cannot read', () => {
    expect(parseError(() => parseEdnKvHistory('{:process 0, :type :invoke, :f :get, :key "a" :value nil}\n{:process 0 :type')).line).toBe(2);
    expect(parseError(() => parseEdnKvHistory('{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n{:process 0, :type :ok, :f :get, :key "b", :value ""}')).message).toMatch(/invoked key "a"/);
    expect(parseError(() => parseEdnKvHistory('{:process 0, :type :invoke, :f :cas, :key "a", :value nil}')).message).toMatch(/unsupported :f/);
    expect(parseError(() => parseEdnKvHistory('{:process 0, :type :invoke, :f :get}')).message).toMatch(/missing :key/);
    expect(parseError(() => parseEdnKvHistory('{}')).message).toMatch(/missing :process/);
  });
});

describe('detectHistoryFormat', () => {
  it('tells the formats apart by content', () => {
    expect(detectHistoryFormat('\n{:process 0, :type :invoke}')).toBe('edn-lines');
    expect(detectHistoryFormat('INFO  jepsen.util - 0\t:invoke\t:read\tnil')).toBe('jepsen-log');
    expect(detectHistoryFormat('\u0000\u0001garbage')).toBeUndefined();
    expect(detectHistoryFormat('')).toBeUndefined();
  });
});
