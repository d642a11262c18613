/**
 * Election safety (Raft §5.2): at most one leader per term, over the whole run and across
 * restarts.
 */
import type { Role, StateMachine } from '@pontoon/raft';
import type { ClusterObserver, SimNode } from '../sim/cluster.js';
import type { Violation } from './violation.js';

export class ElectionSafety<SM extends StateMachine> implements ClusterObserver<SM> {
  /** The leader of each term seen so far. */
  readonly leaders = new Map<number, number>();

  constructor(
    private readonly report: (v: Omit<Violation, 'time'>) => void,
  ) {}

  roleChanged(node: SimNode<SM>, role: Role, term: number): void {
    if (role !== 'leader') return;
    const other = this.leaders.get(term);
    if (other !== undefined && other !== node.id) {
      this.report({ property: 'election safety', message: `n${node.id} and n${other} both led term ${term}` });
      return;
    }
    this.leaders.set(term, node.id);
  }
}
