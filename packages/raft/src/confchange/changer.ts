/**
 * Membership changes: validates a change against the active configuration and computes the
 * configuration and progress map that result, without touching the active ones.
 *
 * Ported from etcd raft's `confchange/confchange.go`.
 */

import { ConfChangeError } from '../errors.js';
import { MajorityConfig } from '../quorum/majority.js';
import { Inflights } from '../tracker/inflights.js';
import { Progress, type ProgressMap } from '../tracker/progress.js';
import { type ProgressTracker, TrackerConfig } from '../tracker/progress-tracker.js';
import { type ConfChangeSingle, ConfChangeType } from '../types.js';

/** A configuration and its progress map, as the changer returns them. */
export type ChangeResult = [TrackerConfig, ProgressMap];

/**
 * Carries out configuration changes, simple or through joint consensus, validating them
 * before they can affect the active configuration. Every method works on copies of the
 * tracker's configuration and progress: the caller installs the result (or not).
 */
export class Changer {
  /** The tracker whose configuration the changes apply to. Never mutated. */
  readonly tracker: ProgressTracker;
  /** The leader's last log index: where new peers start probing. */
  readonly lastIndex: number;

  constructor(tracker: ProgressTracker, lastIndex: number) {
    this.tracker = tracker;
    this.lastIndex = lastIndex;
  }

  /**
   * Enters joint consensus: copies the incoming voters into the (empty) outgoing half, turning
   * `(1 2 3)&&()` into `(1 2 3)&&(1 2 3)`, then applies the changes to the incoming half. The
   * result is C_{new,old} of the Raft thesis §4.3. With `autoLeave`, raft leaves the joint
   * configuration by itself once it is committed.
   */
  enterJoint(autoLeave: boolean, ...ccs: ConfChangeSingle[]): ChangeResult {
    const [cfg, trk] = this.checkAndCopy();
    if (isJoint(cfg)) throw new ConfChangeError('config is already joint');
    if (cfg.voters.incoming.size === 0) {
      // Adding voters to an empty configuration is allowed (bootstrap, tests), but an empty
      // configuration cannot become joint.
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    cfg.voters.outgoing = new MajorityConfig(cfg.voters.incoming.ids);
    this.apply(cfg, trk, ccs);
    cfg.autoLeave = autoLeave;
    return checkAndReturn(cfg, trk);
  }

  /**
   * Leaves joint consensus: drops the outgoing half, so the incoming half decides alone
   * (C_{new,old} -> C_new), and turns staged learners (learnersNext) into learners. Peers that
   * were only in the outgoing half stop being tracked.
   */
  leaveJoint(): ChangeResult {
    const [cfg, trk] = this.checkAndCopy();
    if (!isJoint(cfg)) throw new ConfChangeError("can't leave a non-joint config");
    if (cfg.learnersNext !== null) {
      for (const id of cfg.learnersNext) {
        cfg.learners = nilAwareAdd(cfg.learners, id);
        trk.get(id)!.isLearner = true;
      }
    }
    cfg.learnersNext = null;

    for (const id of cfg.voters.outgoing) {
      const isVoter = cfg.voters.incoming.has(id);
      const isLearner = cfg.learners !== null && cfg.learners.has(id);
      if (!isVoter && !isLearner) trk.delete(id);
    }
    cfg.voters.outgoing = new MajorityConfig();
    cfg.autoLeave = false;
    return checkAndReturn(cfg, trk);
  }

  /**
   * Applies changes that, taken together, change the set of voters by at most one: such a
   * change is safe without joint consensus, since any majority of the old configuration
   * overlaps any majority of the new one (Raft thesis §4.1). Refused while joint.
   */
  simple(...ccs: ConfChangeSingle[]): ChangeResult {
    const [cfg, trk] = this.checkAndCopy();
    if (isJoint(cfg)) throw new ConfChangeError("can't apply simple config change in joint config");
    this.apply(cfg, trk, ccs);
    if (symdiff(this.tracker.config.voters.incoming.ids, cfg.voters.incoming.ids) > 1) {
      throw new ConfChangeError('more than one voter changed without entering joint config');
    }
    return checkAndReturn(cfg, trk);
  }

  /**
   * Applies the changes to the incoming half (by convention every change goes there; the
   * outgoing half only preserves the old voters while joint).
   */
  private apply(cfg: TrackerConfig, trk: ProgressMap, ccs: readonly ConfChangeSingle[]): void {
    for (const cc of ccs) {
      // etcd zeroes the node id of a change it decides (above raft) not to apply: skip those.
      if (cc.nodeId === 0) continue;
      switch (cc.type) {
        case ConfChangeType.ConfChangeAddNode:
          this.makeVoter(cfg, trk, cc.nodeId);
          break;
        case ConfChangeType.ConfChangeAddLearnerNode:
          this.makeLearner(cfg, trk, cc.nodeId);
          break;
        case ConfChangeType.ConfChangeRemoveNode:
          this.remove(cfg, trk, cc.nodeId);
          break;
        case ConfChangeType.ConfChangeUpdateNode:
          // Carries application data through the log; nothing changes in raft.
          break;
        default:
          throw new ConfChangeError(`unexpected conf type ${cc.type as number}`);
      }
    }
    if (cfg.voters.incoming.size === 0) throw new ConfChangeError('removed all voters');
  }

  /** Adds `id` as a voter of the incoming half, or promotes it if it is a learner. */
  private makeVoter(cfg: TrackerConfig, trk: ProgressMap, id: number): void {
    const pr = trk.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, trk, id, false);
      return;
    }
    pr.isLearner = false;
    cfg.learners = nilAwareDelete(cfg.learners, id);
    cfg.learnersNext = nilAwareDelete(cfg.learnersNext, id);
    cfg.voters.incoming.ids.add(id);
  }

  /**
   * Makes `id` a learner: adds a new learner, or demotes a voter of the incoming half. A voter
   * that is still in the outgoing half cannot be a learner at the same time (voters and
   * learners must not intersect), so it is staged in learnersNext until leaveJoint.
   */
  private makeLearner(cfg: TrackerConfig, trk: ProgressMap, id: number): void {
    const pr = trk.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, trk, id, true);
      return;
    }
    if (pr.isLearner) return;
    // Remove it as a voter of the incoming half, but keep its progress: a demoted voter keeps
    // replicating from where it is.
    this.remove(cfg, trk, id);
    trk.set(id, pr);
    if (cfg.voters.outgoing.has(id)) {
      cfg.learnersNext = nilAwareAdd(cfg.learnersNext, id);
    } else {
      pr.isLearner = true;
      cfg.learners = nilAwareAdd(cfg.learners, id);
    }
  }

  /** Removes `id` as a voter or learner of the incoming half. */
  private remove(cfg: TrackerConfig, trk: ProgressMap, id: number): void {
    if (!trk.has(id)) return;
    cfg.voters.incoming.ids.delete(id);
    cfg.learners = nilAwareDelete(cfg.learners, id);
    cfg.learnersNext = nilAwareDelete(cfg.learnersNext, id);
    // A voter of the outgoing half still votes until leaveJoint: keep its progress.
    if (!cfg.voters.outgoing.has(id)) trk.delete(id);
  }

  /** Starts tracking a new voter or learner. */
  private initProgress(cfg: TrackerConfig, trk: ProgressMap, id: number, isLearner: boolean): void {
    if (isLearner) cfg.learners = nilAwareAdd(cfg.learners, id);
    else cfg.voters.incoming.ids.add(id);
    trk.set(
      id,
      new Progress({
        // Probing from the last index is optimistic (etcd's choice): the new peer likely has
        // no log and will need a snapshot, which the first rejection reveals.
        match: 0,
        next: Math.max(this.lastIndex, 1), // invariant: match < next
        inflights: new Inflights(this.tracker.maxInflight, this.tracker.maxInflightBytes),
        isLearner,
        // A new peer counts as active, or CheckQuorum could depose the leader before the peer
        // had any chance to answer.
        recentActive: true,
      }),
    );
  }

  /** Copies the tracker's configuration and progress, after checking that they are valid. */
  private checkAndCopy(): ChangeResult {
    const cfg = this.tracker.config.clone();
    // etcd's Config.Clone() does not copy AutoLeave; every path below sets it before
    // returning, so copying it or not only differs on configurations the checks refuse.
    cfg.autoLeave = false;
    const trk: ProgressMap = new Map();
    for (const [id, pr] of this.tracker.progress) trk.set(id, pr.clone());
    return checkAndReturn(cfg, trk);
  }
}

/** Checks that a configuration and its progress map agree; throws ConfChangeError if not. */
function checkInvariants(cfg: TrackerConfig, trk: ProgressMap): void {
  // The empty configuration is allowed on purpose: it is where bootstrap starts from.
  for (const ids of [cfg.voters.ids(), cfg.learners, cfg.learnersNext]) {
    if (ids === null) continue;
    for (const id of ids) {
      if (!trk.has(id)) throw new ConfChangeError(`no progress for ${id}`);
    }
  }

  // A learner is staged only because it is still a voter of the outgoing half.
  if (cfg.learnersNext !== null) {
    for (const id of cfg.learnersNext) {
      if (!cfg.voters.outgoing.has(id)) {
        throw new ConfChangeError(`${id} is in LearnersNext, but not Voters[1]`);
      }
      if (trk.get(id)!.isLearner) {
        throw new ConfChangeError(`${id} is in LearnersNext, but is already marked as learner`);
      }
    }
  }
  // Learners and voters never intersect.
  if (cfg.learners !== null) {
    for (const id of cfg.learners) {
      if (cfg.voters.outgoing.has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[1]`);
      if (cfg.voters.incoming.has(id)) throw new ConfChangeError(`${id} is in Learners and Voters[0]`);
      if (!trk.get(id)!.isLearner) {
        throw new ConfChangeError(`${id} is in Learners, but is not marked as learner`);
      }
    }
  }

  if (!isJoint(cfg)) {
    // Outside joint consensus there is nothing to stage and nothing to leave. (etcd also
    // insists on a nil outgoing map; an empty MajorityConfig is the only form ours takes.)
    if (cfg.learnersNext !== null) throw new ConfChangeError('cfg.LearnersNext must be nil when not joint');
    if (cfg.autoLeave) throw new ConfChangeError('AutoLeave must be false when not joint');
  }
}

function checkAndReturn(cfg: TrackerConfig, trk: ProgressMap): ChangeResult {
  checkInvariants(cfg, trk);
  return [cfg, trk];
}

function isJoint(cfg: TrackerConfig): boolean {
  return cfg.voters.outgoing.size > 0;
}

/** Adds to a set that is null when empty (etcd's nil map), creating it if needed. */
function nilAwareAdd(s: Set<number> | null, id: number): Set<number> {
  const out = s ?? new Set<number>();
  out.add(id);
  return out;
}

/** Deletes from a set that is null when empty, returning null once it is empty. */
function nilAwareDelete(s: Set<number> | null, id: number): Set<number> | null {
  if (s === null) return null;
  s.delete(id);
  return s.size === 0 ? null : s;
}

/** The size of the symmetric difference of two sets. */
function symdiff(l: ReadonlySet<number>, r: ReadonlySet<number>): number {
  let n = 0;
  for (const id of l) if (!r.has(id)) n++;
  for (const id of r) if (!l.has(id)) n++;
  return n;
}

/** The changes as etcd's confchange.Describe prints them: `ConfChangeAddNode(1) ...`. */
export function describeConfChanges(ccs: readonly ConfChangeSingle[]): string {
  return ccs.map((cc) => `${ConfChangeType[cc.type] ?? String(cc.type)}(${cc.nodeId})`).join(' ');
}
