import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LEVELS, levelName } from '../protocol.js';
import { SYSTEMS, runKvBench } from '../kv-bench.js';
import { procUnavailableReason } from '../process-cpu.js';
import { CPU_ROWS, kvCharts, kvReport, tableRows } from '../report.js';
import { keysFromEnv, serverWarmupFromEnv } from '../index.js';

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
  it('runs every level on both systems A B B A and on the floor, and prints every row for all three', { timeout: 900_000 }, async () => {
    const keys = 300;
    const r = await runKvBench({ durationMs: 300, warmupMs: 0, serverWarmupOps: 200, rounds: 1, keys, filter: undefined }, () => {});
    const cpuMeasured = procUnavailableReason() === undefined;

    expect(r.order).toEqual(['pontoon-kv', 'etcd', 'etcd', 'pontoon-kv', 'floor']);
    expect(r.systems.map((s) => s.system)).toEqual([...SYSTEMS]);
    expect(r.cpuUnavailable).toBe(procUnavailableReason());
    const cpuTotals = new Map<string, { client: number; servers: number }>();
    for (const s of r.systems) {
      const floor = s.system === 'floor';
      expect(s.levels.map((l) => l.name)).toEqual(LEVELS.map(levelName));
      const totals = { client: 0, servers: 0 };
      for (const l of s.levels) {
        // Two passes each for the compared systems, one for the floor. On a loaded machine a
        // level may finish nothing in a 300 ms window, or time requests out (pontoon-kv at 256
        // puts in flight does): that is a measurement, not a defect of the suite, so it must be
        // in the report rather than absent from it.
        expect(l.passOpsPerSec).toHaveLength(floor ? 1 : 2);
        expect(Number.isFinite(l.opsPerSec)).toBe(true);
        if (l.errors > 0) expect(l.firstError).toBeDefined();
        // CPU is there wherever operations completed and /proc can be read, else the reason is.
        if (!cpuMeasured || l.latency.count === 0) {
          expect(l.cpu).toBeUndefined();
          expect(l.cpuUnavailable).toBeDefined();
          continue;
        }
        const c = l.cpu!;
        expect(c, `${s.system} ${l.name}: ${l.cpuUnavailable}`).toBeDefined();
        for (const v of Object.values(c)) expect(Number.isFinite(v) && v >= 0, `${s.system} ${l.name} CPU ${JSON.stringify(c)}`).toBe(true);
        expect(c.serverProcesses).toBe(floor ? 1 : 3);
        // The leader is one of the processes summed: never more than all of them.
        expect(c.leaderUsPerOp).toBeLessThanOrEqual(c.serversUsPerOp);
        if (floor) expect(c.leaderUsPerOp).toBe(c.serversUsPerOp);
        totals.client += c.clientUsPerOp;
        totals.servers += c.serversUsPerOp;
      }
      cpuTotals.set(s.system, totals);
      if (floor) {
        expect(s.keys).toBeUndefined();
        continue;
      }
      expect(s.keys?.keys).toBe(keys);
      expect(s.keys?.rssBytes).toHaveLength(3);
      for (const rss of s.keys!.rssBytes) expect(rss).toBeGreaterThan(0);
      expect(s.keys!.restartMs).toBeGreaterThan(0);
    }
    if (cpuMeasured) {
      // A window can be too short for one 10 ms tick, but not all of a system's windows together.
      for (const [system, t] of cpuTotals) {
        expect(t.client, `${system} client CPU`).toBeGreaterThan(0);
        expect(t.servers, `${system} servers CPU`).toBeGreaterThan(0);
      }
    }

    const rows = tableRows(r);
    const figures = rows.map((row) => row.figure);
    for (const l of LEVELS) {
      const name = levelName(l);
      expect(figures.filter((f) => f.startsWith(`${name}:`))).toHaveLength(3 + CPU_ROWS.length);
      for (const c of CPU_ROWS) expect(figures).toContain(`${name}: ${c.label}`);
    }
    expect(figures.filter((f) => f.includes('300 keys'))).toHaveLength(3);
    expect(rows).toHaveLength(LEVELS.length * (3 + CPU_ROWS.length) + 3);
    for (const row of rows) {
      expect(row.values).toHaveLength(3);
      const level = r.systems.map((s) => s.levels.find((l) => row.figure.startsWith(`${l.name}:`)));
      row.values.forEach((v, i) => {
        const what = `${row.figure} for ${SYSTEMS[i]}`;
        if (v !== undefined) expect(Number.isFinite(v), what).toBe(true);
        // The floor has no key set; the others have every key figure.
        else if (level[i] === undefined) expect(SYSTEMS[i], what).toBe('floor');
        // A latency or a CPU figure is missing only where the level completed nothing in its
        // windows, or where CPU cannot be read here.
        else if (CPU_ROWS.some((c) => row.figure.endsWith(c.label))) expect(level[i]!.cpu, what).toBeUndefined();
        else expect(level[i]!.latency.count, what).toBe(0);
      });
    }

    const text = kvReport(r);
    const tableLines = text.split('\n');
    for (const f of figures) expect(tableLines.some((line) => line.startsWith(f))).toBe(true);
    expect(tableLines[0]).toMatch(/pontoon-kv +etcd +floor +pontoon-kv \/ etcd +pontoon-kv \/ floor +etcd \/ floor$/);
    expect(text).toContain('passes: pontoon-kv, etcd, etcd, pontoon-kv, floor');
    expect(text).toContain('each fresh cluster warmed with 200 unmeasured operations');
    // The key set alone (`--filter keys`) runs no levels, and so no warm-up: the report says none.
    const keysOnly = kvReport({ ...r, systems: r.systems.map((s) => ({ ...s, levels: [] })) });
    expect(keysOnly).not.toContain('warmed');
    if (cpuMeasured) expect(text).toContain('cores busy in the measured windows of the put levels');
    else expect(text).toContain(`CPU: ${procUnavailableReason()}`);
    const charts = kvCharts(r);
    const put64Cpu = r.systems.some((s) => s.levels.find((l) => l.name === 'put x 64')?.cpu !== undefined);
    expect(charts.map((c) => c.kind)).toEqual(put64Cpu ? ['throughput', 'bars'] : ['throughput']);
    expect(charts[0]!.series.map((s) => s.name)).toEqual([...SYSTEMS]);
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

  it('reads the warm-up count from PONTOON_KV_BENCH_WARMUP_OPS, 20,000 without it', () => {
    expect(serverWarmupFromEnv({})).toBe(20_000);
    expect(serverWarmupFromEnv({ PONTOON_KV_BENCH_WARMUP_OPS: '0' })).toBe(0);
    expect(serverWarmupFromEnv({ PONTOON_KV_BENCH_WARMUP_OPS: '5_000' })).toBe(5_000);
    expect(() => serverWarmupFromEnv({ PONTOON_KV_BENCH_WARMUP_OPS: '-1' })).toThrow(/PONTOON_KV_BENCH_WARMUP_OPS/);
  });
});
