import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  argBool,
  argInt,
  argInts,
  parseDatadriven,
  parseLine,
  positionalInts,
  runDatadrivenText,
  scanArg,
  stripLogLines,
} from './conformance/datadriven.js';
import { readFileSync } from 'node:fs';

const ETCD = new URL('../../../../shared/conformance/etcd-raft/', import.meta.url);

describe('parseLine', () => {
  it('parses keys, single values and lists', () => {
    expect(parseLine('committed cfg=(1,2,3) cfgj=zero idx=(13, 100) flag')).toEqual({
      cmd: 'committed',
      cmdArgs: [
        { key: 'cfg', vals: ['1', '2', '3'] },
        { key: 'cfgj', vals: ['zero'] },
        { key: 'idx', vals: ['13', '100'] },
        { key: 'flag', vals: [] },
      ],
    });
  });
  it('keeps nested parentheses and empty values', () => {
    expect(parseLine('cmd exprs=(a + (b + c), d + f) e= x=()')).toEqual({
      cmd: 'cmd',
      cmdArgs: [
        { key: 'exprs', vals: ['a + (b + c)', 'd + f'] },
        { key: 'e', vals: [''] },
        { key: 'x', vals: [''] },
      ],
    });
  });
  it('rejects an unterminated list', () => {
    expect(() => parseLine('cmd a=(1,2')).toThrow(/cannot parse directive/);
  });
});

describe('parseDatadriven', () => {
  it('reads short and long forms, input, comments and continuations', () => {
    const text = [
      '# a comment',
      '',
      'first a=1 \\',
      '  b=(2,3)',
      'some input',
      'more input',
      '----',
      'out1',
      'out2',
      '',
      'second',
      '----',
      '----',
      'x',
      '',
      'y',
      '----',
      '----',
      '',
      'third',
      '----',
      '',
      'fourth',
      '----',
      '----',
      'a',
      '----',
      'b',
      '----',
      '----',
      'fifth',
      '----',
      'last',
    ].join('\n');
    const ds = parseDatadriven(text, 'f');
    expect(ds.map((d) => [d.pos, d.cmd, d.input, d.expected])).toEqual([
      ['f:3', 'first', 'some input\nmore input', 'out1\nout2\n'],
      ['f:11', 'second', '', 'x\n\ny\n'],
      ['f:20', 'third', '', ''],
      ['f:23', 'fourth', '', 'a\n----\nb\n'],
      ['f:31', 'fifth', '', 'last\n'],
    ]);
    const first = ds[0]!;
    expect(argInt(first, 'a')).toBe(1);
    expect(argInts(first, 'b')).toEqual([2, 3]);
    expect(scanArg(first, 'c')).toBeUndefined();
    expect(() => argInt(first, 'c')).toThrow(/f:3: first: missing argument c/);
  });

  it('reads booleans and positional ids', () => {
    const [d] = parseDatadriven('stabilize 1 2 v1=true x\n----\nok\n', 'f');
    expect(positionalInts({ ...d!, cmdArgs: d!.cmdArgs.slice(0, 2) })).toEqual([1, 2]);
    expect(argBool(d!, 'v1')).toBe(true);
    expect(argBool(d!, 'x')).toBe(true);
    expect(argBool(d!, 'y')).toBe(false);
  });

  it('parses every etcd raft scenario file', () => {
    let files = 0;
    for (const dir of ['quorum', 'confchange', 'interaction']) {
      const url = new URL(`${dir}/`, ETCD);
      for (const name of readdirSync(url).filter((n) => n.endsWith('.txt'))) {
        const ds = parseDatadriven(readFileSync(new URL(name, url), 'utf8'), `${dir}/${name}`);
        expect(ds.length, `${dir}/${name}`).toBeGreaterThan(0);
        for (const d of ds) expect(d.cmd, d.pos).toMatch(/^[a-z][a-z0-9-]*$/);
        files++;
      }
    }
    expect(files).toBe(30);
  });
});

describe('stripLogLines and runDatadrivenText', () => {
  it('drops logger lines, indented or not', () => {
    expect(stripLogLines('a\nINFO x\n  DEBUG y\nWARNING z\nERROR  q\n')).toBe('a\nWARNING z\n');
    expect(stripLogLines('INFO only\n')).toBe('');
  });

  it('compares outputs with log lines stripped and stops at a throwing handler', () => {
    const text = 'a\n----\nINFO hi\nok\n\nb\n----\nno\n\nc\n----\nboom\n\nd\n----\nok\n';
    const rs = runDatadrivenText(text, 't', (d) => {
      if (d.cmd === 'c') throw new Error('boom');
      return d.cmd === 'a' ? 'WARN logged\nok' : 'yes';
    });
    expect(rs.map((r) => [r.pos, r.ok])).toEqual([
      ['t:1', true],
      ['t:6', false],
      ['t:10', false],
    ]);
  });
});
