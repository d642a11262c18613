import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClusterSession } from '../harness.js';

describe('the benchmark cluster', () => {
  it('commits writes, serves reads, survives a leader kill, and leaves no process or folder behind', async () => {
    const session = await ClusterSession.start({ log: () => {} });
    const dir = session.cluster.dir;
    let pids: number[] = [];
    try {
      const w = await session.writes(128, 8, { durationMs: 300, warmupMs: 50, minCount: 100 });
      expect(w.latency.count).toBeGreaterThanOrEqual(100);
      expect(w.leader.commitsPerFsync).toBeGreaterThan(0);
      const r = await session.reads('readIndex', 4, { durationMs: 200, warmupMs: 0 });
      expect(r.latency.count).toBeGreaterThan(0);
      const f = await session.failovers(1);
      expect(f.samplesMs).toHaveLength(1);
      const again = await session.writes(1024, 1, { durationMs: 100, warmupMs: 0, minCount: 10 });
      expect(again.latency.count).toBeGreaterThanOrEqual(10);
      pids = session.cluster.pids();
      expect(pids).toHaveLength(3);
    } finally {
      await session.close();
    }
    expect(fs.existsSync(dir)).toBe(false);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 120_000);
});
