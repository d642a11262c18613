import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PONTOON_KV_BIN } from 'pontoon-kv/testing';
import { baseCommand, kvAbReport, runKvAb } from '../kv-ab/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('kv-ab', () => {
  it('needs PONTOON_KV_AB_BASE naming an installed clone, and says so', () => {
    expect(() => baseCommand({})).toThrow(/set PONTOON_KV_AB_BASE/);
    expect(() => baseCommand({ PONTOON_KV_AB_BASE: '/nonexistent-clone' })).toThrow(/node_modules\/\.bin\/pontoon-kv does not exist/);
    expect(baseCommand({ PONTOON_KV_AB_BASE: repoRoot }).command).toBe(path.join(repoRoot, 'node_modules/.bin/pontoon-kv'));
  });

  it('runs both builds at once in alternating windows and reports B / A (here the same build on both sides)', async () => {
    const lines: string[] = [];
    const levels = await runKvAb({
      baseCommand: baseCommand({ PONTOON_KV_AB_BASE: repoRoot }).command,
      command: PONTOON_KV_BIN,
      windows: 2,
      windowMs: 300,
      warmupWindows: 0,
      filter: 'put x 1',
      clusterWarmupMs: 300,
      log: (l) => lines.push(l),
    });
    expect(levels.map((l) => l.name)).toEqual(['put x 1']);
    for (const side of [levels[0]!.a, levels[0]!.b]) {
      expect(side.putsPerSec).toBeGreaterThan(0);
      expect(side.latency.count).toBeGreaterThan(0);
      expect(side.latency.p50Ns).toBeLessThanOrEqual(side.latency.p99Ns);
      expect(side.windowRates.min).toBeLessThanOrEqual(side.windowRates.max);
      expect(side.cpuPerPut?.servers).toBeGreaterThan(0);
    }
    const text = kvAbReport({ base: repoRoot, windows: 2, windowMs: 300, warmupWindows: 0, levels });
    expect(text).toMatch(/put x 1: puts\/s .* \d\.\d{3}x/);
    expect(text).toMatch(/put x 1: servers CPU per put \(all members\)/);
    expect(lines.some((l) => l.startsWith('kv-ab: put x 1: A '))).toBe(true);
  }, 180_000);

  it('refuses a filter that matches no level', async () => {
    await expect(runKvAb({ baseCommand: PONTOON_KV_BIN, windows: 1, windowMs: 100, warmupWindows: 0, filter: 'get', log: () => {} })).rejects.toThrow(/no level matches --filter get/);
  });
});
