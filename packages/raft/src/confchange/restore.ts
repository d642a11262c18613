/**
 * Rebuilds a tracker configuration from a ConfState (after a restart or a snapshot).
 *
 * Ported from etcd raft's `confchange/restore.go`.
 */

import { ProgressTracker } from '../tracker/progress-tracker.js';
import { type ConfChangeSingle, ConfChangeType, type ConfState } from '../types.js';
import { type ChangeResult, Changer } from './changer.js';

/**
 * Translates a ConfState into two lists of changes: `out` builds (from nothing, one simple
 * change at a time) the configuration that becomes the outgoing half, and `inc`, applied on top
 * of it while entering joint consensus, yields the ConfState.
 *
 * For voters=(1 2 3) learners=(5) outgoing=(1 2 4 6) learners_next=(4):
 *
 *     out = v1 v2 v4 v6                       -> (1 2 4 6)
 *     inc = r1 r2 r4 r6 v1 v2 v3 l5 l4        -> (1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4)
 *
 * Whether 5 was a learner before the joint configuration cannot be told; it does not matter.
 */
function toConfChangeSingle(cs: ConfState): { out: ConfChangeSingle[]; inc: ConfChangeSingle[] } {
  const out: ConfChangeSingle[] = [];
  const inc: ConfChangeSingle[] = [];
  for (const id of cs.votersOutgoing) out.push({ type: ConfChangeType.ConfChangeAddNode, nodeId: id });
  // First remove every outgoing voter, then add the incoming voters and the learners.
  for (const id of cs.votersOutgoing) inc.push({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: id });
  for (const id of cs.voters) inc.push({ type: ConfChangeType.ConfChangeAddNode, nodeId: id });
  for (const id of cs.learners) inc.push({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: id });
  // Nodes that are to be learners but are still voters of the outgoing half.
  for (const id of cs.learnersNext) inc.push({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: id });
  return { out, inc };
}

/**
 * Runs the changes that enact `cs`, starting from the changer's configuration (which must be
 * empty), and returns the resulting configuration and progress map. The changer's tracker is
 * not modified. Throws ConfChangeError when `cs` is not a valid configuration.
 */
export function restore(chg: Changer, cs: ConfState): ChangeResult {
  const { out, inc } = toConfChangeSingle(cs);

  // Each step starts from the result of the previous one, on a tracker of our own.
  const trk = new ProgressTracker(chg.tracker.maxInflight, chg.tracker.maxInflightBytes);
  trk.config = chg.tracker.config;
  trk.progress = chg.tracker.progress;
  const step = new Changer(trk, chg.lastIndex);
  const install = ([cfg, prs]: ChangeResult): void => {
    trk.config = cfg;
    trk.progress = prs;
  };

  if (out.length === 0) {
    // Not joint: apply the incoming changes one by one.
    for (const cc of inc) install(step.simple(cc));
  } else {
    // Joint: build the outgoing configuration as if it were the active one, e.g. (2 3 4)&&(),
    // then enter joint consensus with the incoming changes, which rotates it into the outgoing
    // half: (1 2 3)&&(2 3 4).
    for (const cc of out) install(step.simple(cc));
    install(step.enterJoint(cs.autoLeave, ...inc));
  }
  return [trk.config, trk.progress];
}
