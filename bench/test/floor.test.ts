import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { runFloor } from '../floor/floor.js';

/** The temp dirs of this process (other runs may be creating theirs at the same time). */
function benchTempDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith(`pontoon-bench-${process.pid}-`));
}

/** This process's children running a floor script. */
function floorChildren(): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'args='], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are no children at all
  }
  return out.split('\n').filter((line) => line.includes('/floor/'));
}

describe('runFloor', () => {
  it('measures every figure and every replicator level, and leaves no process or directory behind', async () => {
    const lines: string[] = [];
    const r = await runFloor({ levels: [1, 8], payloadBytes: [128], durationMs: 150, runs: 1, log: (l) => lines.push(l) });
    for (const s of [r.fdatasync, r.sqliteCommit, r.loopbackRtt]) {
      expect(s.count).toBeGreaterThan(0);
      expect(s.p50Ns).toBeLessThanOrEqual(s.p99Ns);
    }
    expect(r.writer).toBe('worker');
    expect(r.replicator.map((l) => [l.payloadBytes, l.inFlight])).toEqual([
      [128, 1],
      [128, 8],
    ]);
    for (const l of r.replicator) {
      expect(l.latency.count).toBeGreaterThan(0);
      expect(l.commitsPerSec).toBeGreaterThan(0);
      expect(l.cdf[l.cdf.length - 1]![1]).toBe(100);
      // Every entry made durable on the leader went through at least one transaction.
      expect(l.cost.leaderEntriesPerFsync).toBeGreaterThanOrEqual(1);
      expect(l.cost.leaderCpuMicrosPerEntry).toBeGreaterThan(0);
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(benchTempDirs()).toEqual([]);
    expect(floorChildren()).toEqual([]);
  });

  it('replicates through main-thread writers too', async () => {
    const r = await runFloor({ levels: [8], payloadBytes: [1024], durationMs: 100, runs: 1, log: () => {}, writer: 'main' });
    expect(r.writer).toBe('main');
    expect(r.replicator[0]!.latency.count).toBeGreaterThan(0);
    expect(benchTempDirs()).toEqual([]);
    expect(floorChildren()).toEqual([]);
  });
});
