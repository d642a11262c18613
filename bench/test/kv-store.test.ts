import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { QUICK_SIZES, kvStoreReport, runKvStore } from '../kv-store/index.js';

function benchTempDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith(`pontoon-bench-${process.pid}-`));
}

function memberChildren(): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'args='], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are no children at all
  }
  return out.split('\n').filter((line) => line.includes('member-child'));
}

describe('kv-store suite at its quick sizes', () => {
  it('measures every section, finds every stored key, and leaves no process or directory behind', { timeout: 240_000 }, async () => {
    const lines: string[] = [];
    const sizes = { ...QUICK_SIZES, keys: 1_000, getSamples: 50, watchers: 20, watchWrites: 5, levels: [4], hotKeyVersions: [0, 1_000] };
    const r = await runKvStore(sizes, { runs: 1, durationMs: 100, warmupRuns: 0, filter: undefined }, (l) => lines.push(l));

    expect(r.applies!.map((a) => a.config)).toEqual(['bare SQLite txn', 'store applyBatch', '1 member', '3 members']);
    for (const a of r.applies!) {
      expect(a.inFlight).toBe(4);
      expect(a.putsPerSec).toBeGreaterThan(0);
    }
    expect(r.applies![0]!.ratio).toBe(1);

    const s = r.stored!;
    expect(s.keys).toBe(1_000);
    // The child restarted the filled member and found every key it asked for (it throws otherwise).
    for (const c of [s.quick, s.meta, s.empty]) {
      expect(c.allFound).toBe(true);
      expect(c.readyMs).toBeGreaterThanOrEqual(c.openMs);
    }
    // 1,000 keys of 128 B values take more than their values' bytes on disk.
    expect(s.storeBytes).toBeGreaterThan(1_000 * 128);

    // Every watcher got every put, one event each (measureFanout throws on a missing or stray one).
    for (const f of [r.watch!.oneMember, r.watch!.follower]) {
      expect(f.fromAck.totalCount).toBe(20 * 5);
      expect(f.fromCall.totalCount).toBe(20 * 5);
    }

    expect(r.hotKey!.map((p) => [p.version, p.compacted])).toEqual([
      [0, false],
      [1_000, false],
      [1_512, true],
    ]);

    const text = kvStoreReport(r).text;
    for (const heading of ['applies', 'member with 1,000 keys', 'range, 1,000 keys stored', 'watch fan-out, 20 watchers', 'one key written']) {
      expect(text).toContain(heading);
    }
    expect(benchTempDirs()).toEqual([]);
    expect(memberChildren()).toEqual([]);
  });

  it('runs only the sections its filter names', { timeout: 60_000 }, async () => {
    const r = await runKvStore({ ...QUICK_SIZES, hotKeyVersions: [0] }, { runs: 1, durationMs: 50, warmupRuns: 0, filter: 'hot' }, () => {});
    expect(r.applies).toBeUndefined();
    expect(r.stored).toBeUndefined();
    expect(r.watch).toBeUndefined();
    expect(r.hotKey).toHaveLength(2);
  });
});
