/**
 * How interaction outputs are compared. Log lines are dropped from both sides (the conformance
 * rules), and then an output that held only log lines is the same as "ok": etcd's Handle says
 * "ok" only when nothing at all was written, and what its logger wrote is not ours to match.
 */
import { stripLogLines } from './datadriven.js';

export function normalizeInteractionOutput(s: string): string {
  const stripped = stripLogLines(s);
  return stripped === 'ok\n' ? '' : stripped;
}
