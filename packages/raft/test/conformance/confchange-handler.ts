/**
 * The handler of etcd raft's confchange scenarios (confchange/datadriven_test.go): `simple`,
 * `enter-joint [autoleave=true]` and `leave-joint` with changes `v1 l2 r3 u4` as input, applied
 * to one tracker per file; the changer's last index counts up with every directive. A refused
 * change prints its error (ConfChangeError: the one kind etcd's changer returns).
 */
import { Changer, type ChangeResult } from '../../src/confchange/changer.js';
import { ConfChangeError } from '../../src/errors.js';
import { progressMapToString } from '../../src/tracker/progress.js';
import { ProgressTracker } from '../../src/tracker/progress-tracker.js';
import { ConfChangeType, type ConfChangeSingle } from '../../src/types.js';
import { argBool, parseIntStrict, type DatadrivenHandler } from './datadriven.js';

/** A handler with its own tracker (max 10 inflight messages, no byte limit), for one file. */
export function confChangeHandler(): DatadrivenHandler {
  const tr = new ProgressTracker(10, 0);
  let lastIndex = 0;
  return (d) => {
    const c = new Changer(tr, lastIndex);
    // Every directive counts, refused ones included (etcd's deferred LastIndex++).
    lastIndex++;

    const ccs: ConfChangeSingle[] = [];
    const trimmed = d.input.trim();
    const toks = trimmed === '' ? [] : trimmed.split(' ');
    for (const tok of toks) {
      if (tok.length < 2) return `unknown token ${tok}`;
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
          return `unknown input: ${tok}`;
      }
      const nodeId = parseIntStrict(tok.slice(1));
      if (nodeId === undefined || nodeId < 0) {
        return `strconv.ParseUint: parsing ${JSON.stringify(tok.slice(1))}: invalid syntax`;
      }
      ccs.push({ type, nodeId });
    }

    let res: ChangeResult;
    try {
      switch (d.cmd) {
        case 'simple':
          res = c.simple(...ccs);
          break;
        case 'enter-joint':
          res = c.enterJoint(argBool(d, 'autoleave'), ...ccs);
          break;
        case 'leave-joint':
          if (ccs.length > 0) throw new ConfChangeError('this command takes no input');
          res = c.leaveJoint();
          break;
        default:
          return 'unknown command';
      }
    } catch (e) {
      if (!(e instanceof ConfChangeError)) throw e;
      return `${e.message}\n`;
    }
    [tr.config, tr.progress] = res;
    return `${tr.config.toString()}\n${progressMapToString(tr.progress)}`;
  };
}
