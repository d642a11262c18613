/**
 * The text form of membership changes that etcd's scenario files use (`v1 l2 r3 u4`): test-only,
 * the datadriven scenarios and the describe output read and write it.
 */
import { ConfChangeError } from '../../src/errors.js';
import { ConfChangeType } from '../../src/types.js';
import type { ConfChangeSingle } from '../../src/types.js';

/**
 * Parses space-separated operations: `vN` makes N a voter, `lN` a learner, `rN` removes N,
 * `uN` updates N. Throws ConfChangeError on anything else.
 */
export function confChangesFromString(s: string): ConfChangeSingle[] {
  const ccs: ConfChangeSingle[] = [];
  const trimmed = s.trim();
  if (trimmed === '') return ccs;
  // One space between tokens, as etcd splits: two spaces make an empty (unknown) token.
  for (const tok of trimmed.split(' ')) {
    if (tok.length < 2) throw new ConfChangeError(`unknown token ${tok}`);
    let type: ConfChangeType;
    switch (tok[0]) {
      case 'v':
        type = ConfChangeType.ConfChangeAddNode;
        break;
      case 'l':
        type = ConfChangeType.ConfChangeAddLearnerNode;
        break;
      case 'r':
        type = ConfChangeType.ConfChangeRemoveNode;
        break;
      case 'u':
        type = ConfChangeType.ConfChangeUpdateNode;
        break;
      default:
        throw new ConfChangeError(`unknown input: ${tok}`);
    }
    const digits = tok.slice(1);
    const nodeId = /^[0-9]+$/.test(digits) ? Number(digits) : NaN;
    if (!Number.isSafeInteger(nodeId)) throw new ConfChangeError(`invalid node id in ${tok}`);
    ccs.push({ type, nodeId });
  }
  return ccs;
}

/** The inverse of confChangesFromString: `v1 l2 r3 u4`. */
export function confChangesToString(ccs: readonly ConfChangeSingle[]): string {
  let buf = '';
  for (let i = 0; i < ccs.length; i++) {
    const cc = ccs[i]!;
    if (i > 0) buf += ' ';
    switch (cc.type) {
      case ConfChangeType.ConfChangeAddNode:
        buf += 'v';
        break;
      case ConfChangeType.ConfChangeAddLearnerNode:
        buf += 'l';
        break;
      case ConfChangeType.ConfChangeRemoveNode:
        buf += 'r';
        break;
      case ConfChangeType.ConfChangeUpdateNode:
        buf += 'u';
        break;
      default:
        buf += 'unknown';
    }
    buf += String(cc.nodeId);
  }
  return buf;
}
