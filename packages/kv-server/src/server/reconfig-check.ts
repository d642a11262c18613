/**
 * etcd's strict reconfiguration check (`--strict-reconfig-check`, on by default): before it
 * proposes a membership change, etcd 3.4 refuses one that would leave the cluster without a
 * quorum of members that run (etcdserver mayAddMember, mayRemoveMember, mayPromoteMember). Two
 * tests, in this order:
 *
 * - Started members (RaftCluster.IsReadyTo*): a member is "started" once it has published its
 *   name (a member added but never run has none). Adding a voter, removing a voter or promoting
 *   a learner is refused with MemberNotEnoughStarted when the started voters of the resulting
 *   configuration are fewer than its quorum. Adding a voter to a one-member cluster is allowed
 *   (etcd's restore procedure grows a restored member that way).
 * - Connected members (isConnectedFullySince, numConnectedSince): a member counts as connected
 *   when the viewing member has been in unbroken contact with it for longer than etcd's
 *   HealthInterval (5 s), the viewer itself always. Any add (learners too) needs every voter
 *   connected; removing a voter that is in contact needs the connected voters, less one, to be a
 *   quorum of the voters. Both refuse with Unhealthy. Removing a voter that is out of contact
 *   passes: it is not part of the active quorum.
 *
 * Removing a learner is never checked; promoting one has no connectivity test. These are pure
 * functions of a ReconfigView; the Cluster service builds the view (cluster-service.ts).
 */
import { EtcdError } from '../etcd-errors.js';

/** etcd's HealthInterval: how long a peer must have been connected to count. */
export const HEALTH_INTERVAL_MS = 5000;

/** What the checks look at. */
export interface ReconfigView {
  /** The member whose contact with the others `contactMs` gives; it counts as connected. */
  readonly viewer: number;
  readonly voters: readonly number[];
  readonly learners: readonly number[];
  /** Members that have published their name (etcd's Member.IsStarted). */
  readonly started: ReadonlySet<number>;
  /** Unbroken contact of the viewer with each member in ms; a member not listed is out of contact. */
  readonly contactMs: Readonly<Record<number, number>>;
}

/** Throws etcd's error if adding a member (`learner` or voter) is refused. */
export function checkAddMember(view: ReconfigView, learner: boolean): void {
  if (!learner) {
    const started = view.voters.filter((id) => view.started.has(id)).length;
    const members = view.voters.length + 1;
    const restoring = started === 1 && members === 2;
    if (!restoring && started < quorum(members)) throw new EtcdError('MemberNotEnoughStarted');
  }
  if (connected(view, view.voters) !== view.voters.length) throw new EtcdError('Unhealthy');
}

/** Throws etcd's error if removing member `id` (undefined: no such member) is refused. */
export function checkRemoveMember(view: ReconfigView, id: number | undefined): void {
  if (id !== undefined && view.learners.includes(id)) return;
  const remaining = view.voters.filter((v) => v !== id);
  const started = remaining.filter((v) => view.started.has(v)).length;
  if (started < quorum(remaining.length)) throw new EtcdError('MemberNotEnoughStarted');
  if (id === undefined || (id !== view.viewer && view.contactMs[id] === undefined)) return;
  const active = connected(view, view.voters);
  if (active - 1 < quorum(view.voters.length - 1)) throw new EtcdError('Unhealthy');
}

/** Throws etcd's error if promoting learner `id` is refused (after the learner's readiness). */
export function checkPromoteMember(view: ReconfigView): void {
  // The learner counts as a started member of the new configuration.
  const started = 1 + view.voters.filter((v) => view.started.has(v)).length;
  if (started < quorum(view.voters.length + 1)) throw new EtcdError('MemberNotEnoughStarted');
}

function quorum(members: number): number {
  return Math.floor(members / 2) + 1;
}

function connected(view: ReconfigView, ids: readonly number[]): number {
  return ids.filter((id) => id === view.viewer || (view.contactMs[id] ?? 0) > HEALTH_INTERVAL_MS).length;
}
