import { describe, expect, it } from 'vitest';
import { ThreadRoundTrip } from '../storage/thread-round-trip.js';

describe('ThreadRoundTrip (bench/storage floor)', () => {
  it('resolves each request only once the worker has answered it, then exits on close', async () => {
    const t = new ThreadRoundTrip();
    for (let i = 1; i <= 200; i++) {
      await t.roundTrip();
      expect(t.answered).toBeGreaterThanOrEqual(i);
    }
    // Requests that overlap: the n-th resolves once n have been answered.
    const seen: number[] = [];
    await Promise.all(Array.from({ length: 20 }, () => t.roundTrip().then(() => seen.push(t.answered))));
    expect(seen).toHaveLength(20);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(201);
    expect(t.answered).toBe(220);
    await t.close();
  }, 10_000);
});
