import { describe, expect, it } from 'vitest';
import { kvSimulation, replay, scheduleOf } from '@pontoon/sim';

describe('replay', () => {
  const config = kvSimulation({ writes: 30, windowMs: 600 });

  it('reproduces a run step by step from its seed', async () => {
    const a = await replay(config, 12);
    const b = await replay(config, 12);
    expect(a.trace.length).toBeGreaterThan(10);
    expect(b.trace).toEqual(a.trace);
    expect(b.history).toEqual(a.history);
    expect(b.stats.events).toBe(a.stats.events);
  });

  it('draws the same schedule for a seed every time, and different runs for different seeds', async () => {
    expect(scheduleOf(config, 99)).toEqual(scheduleOf(config, 99));
    const a = await replay(config, 1, { faults: [] });
    const b = await replay(config, 2, { faults: [] });
    expect(a.trace).not.toEqual(b.trace);
  });

  it('traces role changes, faults, commits and message summaries', async () => {
    const r = await replay(config, 5, { faults: [{ kind: 'crash', at: 300, node: 'leader', downMs: 100 }] });
    const text = r.trace.join('\n');
    expect(text).toMatch(/is leader in term \d+/);
    expect(text).toMatch(/crashed, losing \d+ unsynced write/);
    expect(text).toMatch(/applied indexes \d+\.\.\d+/);
    expect(text).toMatch(/messages: .*App x\d+/);
    expect(r.ok).toBe(true);
  });
});
