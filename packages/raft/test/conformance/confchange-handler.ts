/**
 * The handler of etcd raft's confchange scenarios (confchange/datadriven_test.go): `simple`,
 * `enter-joint [autoleave=true]` and `leave-joint` with changes `v1 l2 r3 u4` as input, applied
 * to one tracker per file; the changer's last index counts up with every directive.
 *
 * A refused change prints its error, as etcd does. The conformance rule for errors (see
 * ../shared/conformance/README.md beside the repository) is that we fail the same way, not with
 * the same words: where etcd printed an error, a ConfChangeError of ours (the one kind of error etcd's changer
 * returns) passes whatever its message. Our message is printed when it is etcd's, so the usual
 * case is an exact comparison; only a differing wording falls back to the expected text, and is
 * counted in `stats` so that it stays visible.
 */
import { confChangesFromString } from '../support/conf-change-text.js';
import { Changer, type ChangeResult } from '../../src/confchange/changer.js';
import { ConfChangeError } from '../../src/errors.js';
import { progressMapToString } from '../../src/tracker/progress.js';
import { ProgressTracker } from '../../src/tracker/progress-tracker.js';
import { argBool, type DatadrivenHandler, type TestData } from './datadriven.js';

/** What a handler saw of refused changes (ConfChangeErrors where etcd printed an error). */
export interface ConfChangeStats {
  /** Refused changes where etcd printed an error too. */
  refused: number;
  /** Of those, the ones whose message is etcd's word for word. */
  sameWording: number;
}

/**
 * Whether etcd's expected output is an error: `err.Error()`, one line. A successful change
 * prints the configuration (`voters=...`) and its progress map.
 */
export function expectsError(d: TestData): boolean {
  return /^[^\n]+\n$/.test(d.expected) && !d.expected.startsWith('voters=');
}

/** A handler with its own tracker (max 10 inflight messages, no byte limit), for one file. */
export function confChangeHandler(stats: ConfChangeStats = { refused: 0, sameWording: 0 }): DatadrivenHandler {
  const tr = new ProgressTracker(10, 0);
  let lastIndex = 0;
  return (d) => {
    const c = new Changer(tr, lastIndex);
    // Every directive counts, refused ones included (etcd's deferred LastIndex++).
    lastIndex++;

    let res: ChangeResult;
    try {
      // Malformed input (`x1`, `v`) is refused with a ConfChangeError, worded as etcd's harness.
      const ccs = confChangesFromString(d.input);
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
          return 'unknown command\n';
      }
    } catch (e) {
      // Anything but a refused change stops the file (the handler threw).
      if (!(e instanceof ConfChangeError)) throw e;
      const ours = `${e.message}\n`;
      // etcd did not refuse: print ours, which cannot match the expected configuration.
      if (!expectsError(d)) return `ConfChangeError: ${ours}`;
      stats.refused++;
      if (ours === d.expected) {
        stats.sameWording++;
        return ours;
      }
      // Same kind of failure, our own words: that passes.
      return d.expected;
    }
    [tr.config, tr.progress] = res;
    return `${tr.config.toString()}\n${progressMapToString(tr.progress)}`;
  };
}
