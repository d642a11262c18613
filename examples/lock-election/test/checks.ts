/** The assertions every lock and election run must pass, whichever client ran it. */
import { expect } from 'vitest';
import type { LeadershipLedger } from '../leadership-ledger.js';
import type { FencedResource } from '../lock-interfaces.js';
import type { LockRun } from '../lock-workers.js';

/** No two workers held the lock at once; every hold wrote with a larger token than the last. */
export async function expectExclusiveFencedHolds(run: LockRun, workers: readonly string[], rounds: number, resource: FencedResource): Promise<void> {
  expect(run.overlaps).toEqual([]);
  expect(run.holds).toHaveLength(workers.length * rounds);
  for (const name of workers) expect(run.holds.filter((h) => h.worker === name)).toHaveLength(rounds);
  const tokens = run.holds.map((h) => h.token);
  for (let i = 1; i < tokens.length; i++) expect(tokens[i], `tokens in hold order: ${tokens.join(',')}`).toBeGreaterThan(tokens[i - 1]!);
  // Every holder's writes were accepted: a live holder is never fenced off.
  expect(run.holds.flatMap((h) => h.accepted).every((a) => a)).toBe(true);
  const last = run.holds.at(-1)!;
  const final = await resource.read();
  expect(final.token).toBe(last.token);
  expect(final.data).toMatch(new RegExp(`^${last.worker} round ${rounds - 1} write \\d+$`));
}

/** One leader at a time, each killed leader replaced by a live candidate, as the observer saw it. */
export function expectOrderlyFailover(ledger: LeadershipLedger, candidates: readonly string[]): void {
  expect(ledger.violations).toEqual([]);
  expect([...ledger.elected].sort()).toEqual([...candidates].sort());
  expect(ledger.observed).toEqual(ledger.elected);
}
