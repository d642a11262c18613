/**
 * Writers that race to increment one field of one object, each through its own member, with
 * optimistic updates: the classic lost-update test. Without the compare on mod_revision, two
 * writers that read the same count would both write count + 1 and one increment would vanish.
 */
import type { KvMember } from '@pontoon/kv';
import { updateObject } from './optimistic-update.js';
import type { Pod } from './pod.js';

export interface CounterRun {
  /** Increments made (each acknowledged by the cluster). */
  readonly increments: number;
  /** Transactions tried: increments plus the conflicts retried. */
  readonly attempts: number;
}

/** `writers` writers (round-robin over `members`) each add 1 to the pod's restarts `times` times. */
export async function incrementRestartsConcurrently(members: readonly KvMember[], key: string, writers: number, times: number): Promise<CounterRun> {
  let increments = 0;
  let attempts = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const member = members[w % members.length]!;
      for (let i = 0; i < times; i++) {
        const result = await updateObject<Pod>(member, key, (pod) => ({ ...pod, status: { ...pod.status, restarts: pod.status.restarts + 1 } }));
        increments++;
        attempts += result.attempts;
      }
    }),
  );
  return { increments, attempts };
}
