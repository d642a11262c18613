/**
 * Recovery from a lost quorum: one survivor becomes a new one-member cluster from its own data,
 * as etcd's `--force-new-cluster` and hashicorp/raft's RecoverCluster do. Run it on the
 * survivor's LogStore while no RaftNode has it open, then start the node as usual; it elects
 * itself and takes writes, and new members are added with addVoter().
 *
 * The risk, which only an operator can weigh: Raft's guarantees hold among the members that
 * agree on the log, and this steps outside them. Entries the survivor holds beyond its commit
 * index are discarded (another member may have committed them, so acknowledged writes can be
 * lost if the survivor was behind), and if a "destroyed" member was in fact alive, it and the
 * survivor are now two clusters that diverge. Pick the survivor with the highest commit index,
 * make sure the others are gone for good, and never restart them with their old data.
 */
import { ConfChangeError, invariant, RecoveryError } from '../errors.js';
import type { LogStore } from '../log-store.js';
import { marshalConfChange } from '../conf-change.js';
import { decodeConfChangeEntry } from '../raft.js';
import { RawNode } from '../raw-node.js';
import { ConfChangeType, EntryType } from '../types.js';
import type { ConfState, Entry } from '../types.js';
import { encodeAddresses } from './codec.js';

/** What forceNewCluster() takes. */
export interface ForceNewClusterOptions {
  /** This node's id: it must be in the store's configuration. */
  id: number;
  /** This node's address, recorded with it if it has to be added as a voter (it was a learner). */
  address?: string;
  /**
   * The position an OnDiskStateMachine reports: entries up to it are kept even where the stored
   * commit index is behind (it lags, since commit-only writes need not be synced). Default 0.
   */
  appliedIndex?: number;
}

/** What forceNewCluster() did. */
export interface ForceNewClusterResult {
  /** The members removed from the configuration. */
  removed: number[];
  /** The uncommitted entries discarded (after `keptIndex`). */
  discarded: number;
  /** The last entry of the old log that was kept. */
  keptIndex: number;
  /** The commit index now: the last of the appended membership changes. */
  commitIndex: number;
}

/**
 * Rewrites `store` so that it describes a cluster of this node alone: the log is cut after its
 * commit index, and membership changes are appended (and committed by fiat) that leave any joint
 * configuration, make this node a voter, and remove every other member. Idempotent: on a store
 * whose configuration is already this node alone, it changes nothing.
 *
 * @throws RecoveryError if the store is empty or this node is not in its configuration.
 */
export async function forceNewCluster(store: LogStore, options: ForceNewClusterOptions): Promise<ForceNewClusterResult> {
  const { id } = options;
  const { hardState, confState } = store.initialState();
  const snap = store.snapshot();
  const snapIndex = snap.metadata.index;
  const lastIndex = store.lastIndex();
  if (lastIndex === 0 && snapIndex === 0) throw new RecoveryError('the log store is empty: nothing to recover from');
  const keptIndex = Math.min(lastIndex, Math.max(hardState.commit, snapIndex, options.appliedIndex ?? 0));

  // The configuration as of keptIndex, computed by the core itself: a RawNode on the store,
  // positioned at the snapshot, applies the membership changes logged after it.
  const raw = new RawNode({ id, storage: store, electionTick: 10, heartbeatTick: 1, applied: snapIndex });
  let cs: ConfState = confState;
  for (const e of keptIndex > snapIndex ? store.entries(snapIndex + 1, keptIndex + 1, Number.MAX_SAFE_INTEGER) : []) {
    if (e.type === EntryType.EntryNormal) continue;
    try {
      cs = raw.applyConfChange(decodeConfChangeEntry(e));
    } catch (err) {
      // Refused the same way by every member when it was applied: the configuration stayed.
      if (!(err instanceof ConfChangeError)) throw err;
    }
  }
  const isMember = [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext].some((ids) => ids.includes(id));
  if (!isMember) throw new RecoveryError(`node ${id} is not a member of the configuration at index ${keptIndex}`);
  const alone = cs.voters.length === 1 && cs.voters[0] === id && cs.votersOutgoing.length === 0 && cs.learners.length === 0 && cs.learnersNext.length === 0;
  if (alone) return { removed: [], discarded: 0, keptIndex: lastIndex, commitIndex: hardState.commit };

  const changes: Array<ReturnType<typeof marshalConfChange>> = [];
  const joint = cs.votersOutgoing.length > 0;
  if (joint) changes.push(marshalConfChange(undefined));
  // After leaving a joint configuration the incoming voters remain, and learnersNext are learners.
  const voters = cs.voters;
  const learners = [...cs.learners, ...cs.learnersNext];
  // This node first becomes a voter, so that no step removes the last voter.
  if (!voters.includes(id)) {
    const context = options.address === undefined ? undefined : encodeAddresses([[id, options.address]]);
    changes.push(marshalConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: id, ...(context === undefined ? {} : { context }) }));
  }
  const removed = [...new Set([...voters, ...learners, ...cs.votersOutgoing])].filter((m) => m !== id).sort((a, b) => a - b);
  for (const m of removed) changes.push(marshalConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: m }));

  // In the current term, as etcd does: the term never goes down, and this node's first election
  // moves past it anyway.
  const term = hardState.term;
  const entries: Entry[] = changes.map((c, i) => ({ index: keptIndex + 1 + i, term, type: c.type, data: c.data }));
  const commitIndex = keptIndex + entries.length;
  invariant(commitIndex > keptIndex, () => `no membership change to append after ${keptIndex}`);
  // The appended entries replace whatever followed keptIndex: uncommitted entries are dropped.
  await store.append({ hardState: { term, vote: hardState.vote, commit: commitIndex }, entries, sync: true });
  return { removed, discarded: lastIndex - keptIndex, keptIndex, commitIndex };
}
