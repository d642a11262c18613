/**
 * Log matching (Raft §5.3): if two logs hold an entry with the same index and term, they are
 * identical in all entries up to that index. Checked on the nodes' durable logs (those of
 * crashed nodes too).
 */
import type { Entry, MemoryStorage } from '@pontoon/raft/core';
import type { Violation } from './violation.js';

function sameEntry(a: Entry, b: Entry): boolean {
  if (a.term !== b.term || a.type !== b.type || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

/** Compares every pair of logs over the range both still hold. */
export function checkLogMatching(
  logs: ReadonlyArray<{ id: number; log: MemoryStorage }>,
  report: (v: Omit<Violation, 'time'>) => void,
): void {
  const all = logs.map(({ id, log }) => {
    const first = log.firstIndex();
    const last = log.lastIndex();
    return { id, first, entries: last >= first ? log.entries(first, last + 1, Infinity) : [] };
  });
  for (let x = 0; x < all.length; x++) {
    for (let y = x + 1; y < all.length; y++) {
      const a = all[x]!;
      const b = all[y]!;
      const lo = Math.max(a.first, b.first);
      const hi = Math.min(a.first + a.entries.length, b.first + b.entries.length) - 1;
      // The highest common index with equal terms: everything from lo up to it must match.
      let top = -1;
      for (let i = hi; i >= lo; i--) {
        if (a.entries[i - a.first]!.term === b.entries[i - b.first]!.term) {
          top = i;
          break;
        }
      }
      for (let i = lo; i <= top; i++) {
        if (!sameEntry(a.entries[i - a.first]!, b.entries[i - b.first]!)) {
          report({
            property: 'log matching',
            message: `n${a.id} and n${b.id} agree on the term at index ${top} but differ at index ${i}`,
          });
          break;
        }
      }
    }
  }
}
