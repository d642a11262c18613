/**
 * State machine safety (Raft §5.4.3): every node that applies an index applies the same entry
 * there. Also checks the driver hands entries to the state machine in log order, each once
 * (a restored snapshot starts the count again), and, at the end, that replicas that applied the same
 * prefix hold the same state.
 *
 * The entries seen applied are the committed ones: a node applies only what is committed. The
 * other checkers read them from here.
 */
import type { Entry, StateMachine } from '@pontoon/raft';
import type { ClusterObserver, SimNode } from '../sim/cluster.js';
import type { Violation } from './violation.js';

/** An entry known to be committed: its term and command. */
export interface CommittedEntry {
  term: number;
  data: Uint8Array;
  /** The node that applied it first. */
  firstNode: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class StateMachineSafety<SM extends StateMachine> implements ClusterObserver<SM> {
  /** Every entry applied by some node, by index. */
  readonly committed = new Map<number, CommittedEntry>();
  /** The last index each node's current incarnation applied. */
  private readonly lastApplied = new Map<number, number>();
  /** Highest index applied anywhere. */
  maxIndex = 0;

  constructor(private readonly report: (v: Omit<Violation, 'time'>) => void) {}

  started(node: SimNode<SM>, index: number): void {
    this.lastApplied.set(node.id, index);
  }

  restored(node: SimNode<SM>, index: number): void {
    this.lastApplied.set(node.id, index);
  }

  applied(node: SimNode<SM>, e: Readonly<Entry>): void {
    const last = this.lastApplied.get(node.id) ?? 0;
    // Raft's own entries (empty ones, membership changes) never reach apply(): gaps are normal.
    if (e.index <= last) {
      this.report({
        property: 'state machine safety',
        message: `n${node.id} applied index ${e.index} after index ${last} (entries must be applied in log order, once)`,
      });
    }
    this.lastApplied.set(node.id, e.index);
    const c = this.committed.get(e.index);
    if (c === undefined) {
      this.committed.set(e.index, { term: e.term, data: e.data, firstNode: node.id });
      if (e.index > this.maxIndex) this.maxIndex = e.index;
      return;
    }
    if (c.term !== e.term || !sameBytes(c.data, e.data)) {
      this.report({
        property: 'state machine safety',
        message: `n${node.id} applied a different entry at index ${e.index} (term ${e.term}, ${e.data.length} bytes) than n${c.firstNode} did (term ${c.term}, ${c.data.length} bytes)`,
      });
    }
  }

  /** The index node `id`'s current incarnation applied last. */
  appliedIndex(id: number): number {
    return this.lastApplied.get(id) ?? 0;
  }
}

/**
 * Replicas that applied the same index must hold the same state: compares the snapshots of
 * the running nodes, grouped by applied index.
 */
export async function checkReplicaStates<SM extends StateMachine>(
  nodes: readonly SimNode<SM>[],
  report: (v: Omit<Violation, 'time'>) => void,
): Promise<void> {
  const byIndex = new Map<number, Array<{ id: number; state: Uint8Array }>>();
  for (const n of nodes) {
    if (!n.up || n.stateMachine === undefined) continue;
    const index = n.raft!.status().appliedIndex;
    const state = await n.stateMachine.snapshot();
    const group = byIndex.get(index) ?? [];
    group.push({ id: n.id, state });
    byIndex.set(index, group);
  }
  for (const [index, group] of byIndex) {
    for (const other of group.slice(1)) {
      if (!sameBytes(group[0]!.state, other.state)) {
        report({
          property: 'state machine safety',
          message: `n${group[0]!.id} and n${other.id} both applied up to index ${index} but their state machines differ`,
        });
      }
    }
  }
}
