import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const here = new URL('.', import.meta.url);

describe('README example', () => {
  it('is the file this test runs, verbatim', () => {
    const readme = readFileSync(new URL('../../README.md', here), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const file = readFileSync(new URL('./counter-simulation.ts', here), 'utf8');
    expect(block).toBe(file);
  });

  it('runs and finds no bug in a correct counter', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const { report } = await import('./counter-simulation.js');
      expect(report.runs).toBe(20);
      expect(report.failures.map((f) => f.seed)).toEqual([]);
      expect(log).toHaveBeenLastCalledWith('20/20 runs passed');
    } finally {
      log.mockRestore();
    }
  });
});
