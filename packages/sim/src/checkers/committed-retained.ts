/**
 * No acknowledged or committed entry is lost: at the end of a run, once the cluster has healed
 * and caught up, the leader's log holds every entry that any node applied, at the same index
 * and term; and every write a client saw acknowledged is among them.
 */
import type { Violation } from './violation.js';
import type { CommittedEntry } from './state-machine-safety.js';
import type { LogView } from './log-view.js';

function key(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]!);
  return s;
}

export function checkCommittedRetained(
  leaderId: number,
  log: LogView,
  committed: ReadonlyMap<number, CommittedEntry>,
  acknowledged: readonly Uint8Array[],
  report: (v: Omit<Violation, 'time'>) => void,
): void {
  const first = log.firstIndex();
  for (const [index, c] of committed) {
    if (index > log.committed) {
      report({
        property: 'no committed entry lost',
        message: `index ${index} was applied (term ${c.term}) but the final leader n${leaderId} has committed only up to ${log.committed}`,
      });
      return;
    }
    if (index >= first && log.term(index) !== c.term) {
      report({
        property: 'no committed entry lost',
        message: `index ${index} was applied with term ${c.term} but the final leader n${leaderId} holds term ${log.term(index)} there`,
      });
      return;
    }
  }
  // Commands may repeat: every acknowledged copy needs a committed copy of its own.
  const available = new Map<string, number>();
  for (const c of committed.values()) {
    const k = key(c.data);
    available.set(k, (available.get(k) ?? 0) + 1);
  }
  for (const a of acknowledged) {
    const k = key(a);
    const n = available.get(k) ?? 0;
    if (n === 0) {
      report({ property: 'no acknowledged write lost', message: `an acknowledged write (${a.length} bytes: ${JSON.stringify(k.slice(0, 40))}) is in no committed entry` });
      return;
    }
    available.set(k, n - 1);
  }
}
