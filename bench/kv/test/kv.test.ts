import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LEVELS, levelName } from '../protocol.js';
import { SYSTEMS, runKvBench } from '../kv-bench.js';
import { kvReport, tableRows } from '../report.js';
import { keysFromEnv } from '../index.js';

function children(): string[] {
  try {
    return execFileSync('ps', ['--ppid', String(process.pid), '-o', 'args='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('ps '));
  } catch {
    return []; // ps exits 1 when there are no children at all
  }
}

describe('kv suite at tiny sizes', () => {
  it('runs every level on both systems, A B B A, and prints every row for both', { timeout: 900_000 }, async () => {
    const keys = 300;
    const r = await runKvBench({ durationMs: 300, warmupMs: 0, rounds: 1, keys, filter: undefined }, () => {});

    expect(r.order).toEqual(['pontoon-kv', 'etcd', 'etcd', 'pontoon-kv']);
    expect(r.systems.map((s) => s.system)).toEqual([...SYSTEMS]);
    for (const s of r.systems) {
      expect(s.levels.map((l) => l.name)).toEqual(LEVELS.map(levelName));
      for (const l of s.levels) {
        // Two passes each. On a loaded machine a level may finish nothing in a 300 ms window, or
        // time requests out (pontoon-kv at 256 puts in flight does): that is a measurement, not
        // a defect of the suite, so it must be in the report rather than absent from it.
        expect(l.passOpsPerSec).toHaveLength(2);
        expect(Number.isFinite(l.opsPerSec)).toBe(true);
        if (l.errors > 0) expect(l.firstError).toBeDefined();
      }
      expect(s.keys?.keys).toBe(keys);
      expect(s.keys?.rssBytes).toHaveLength(3);
      for (const rss of s.keys!.rssBytes) expect(rss).toBeGreaterThan(0);
      expect(s.keys!.restartMs).toBeGreaterThan(0);
    }

    const rows = tableRows(r);
    const figures = rows.map((row) => row.figure);
    for (const l of LEVELS) {
      const name = levelName(l);
      expect(figures.filter((f) => f.startsWith(`${name}:`))).toHaveLength(3);
    }
    expect(figures.filter((f) => f.includes('300 keys'))).toHaveLength(3);
    expect(rows).toHaveLength(LEVELS.length * 3 + 3);
    for (const row of rows) {
      expect(row.values).toHaveLength(2);
      const level = r.systems.map((s) => s.levels.find((l) => row.figure.startsWith(`${l.name}:`)));
      row.values.forEach((v, i) => {
        // A latency is missing only where the level completed nothing in its windows.
        if (v === undefined) expect(level[i]?.latency.count, `${row.figure} for ${SYSTEMS[i]}`).toBe(0);
        else expect(Number.isFinite(v), `${row.figure} for ${SYSTEMS[i]}`).toBe(true);
      });
    }

    const text = kvReport(r);
    const tableLines = text.split('\n');
    for (const f of figures) expect(tableLines.some((line) => line.startsWith(f))).toBe(true);
    expect(text).toContain('pontoon-kv / etcd');
    expect(text).toContain('passes: pontoon-kv, etcd, etcd, pontoon-kv');
    for (const s of r.systems) {
      for (const l of s.levels) if (l.errors > 0) expect(text).toContain(`${s.system} ${l.name}: ${l.errors} failed; first: ${l.firstError}`);
    }

    // Every member and client process is gone.
    expect(children()).toEqual([]);
  });

  it('reads the key count from PONTOON_KV_BENCH_KEYS, 1,000,000 without it', () => {
    expect(keysFromEnv({})).toBe(1_000_000);
    expect(keysFromEnv({ PONTOON_KV_BENCH_KEYS: '100_000' })).toBe(100_000);
    expect(keysFromEnv({ PONTOON_KV_BENCH_KEYS: '0' })).toBe(0);
    expect(() => keysFromEnv({ PONTOON_KV_BENCH_KEYS: 'lots' })).toThrow(/PONTOON_KV_BENCH_KEYS/);
  });
});
