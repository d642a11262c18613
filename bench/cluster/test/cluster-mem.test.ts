import { describe, expect, it } from 'vitest';
import { clusterMemSuite } from '../../cluster-mem/index.js';

describe('cluster-mem', () => {
  it('measures a level and reports it with its charts', async () => {
    const r = await clusterMemSuite.run({ runs: 1, durationMs: 200, warmupRuns: 0, filter: '128 B x 8' }, () => {});
    const { levels } = r.results as { levels: { payloadBytes: number; inFlight: number; latency: { count: number } }[] };
    expect(levels.map((l) => [l.payloadBytes, l.inFlight])).toEqual([[128, 8]]);
    expect(levels[0]!.latency.count).toBeGreaterThan(0);
    expect(r.text).toContain('commits/s');
    expect(r.charts?.map((c) => c.kind)).toEqual(['cdf', 'throughput']);
  });
});
