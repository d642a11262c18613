/**
 * Leader completeness (Raft §5.4): a leader's log holds every entry committed before its term.
 * Checked the moment a node becomes leader, against every entry seen applied so far (those
 * are committed).
 */
import type { Role, StateMachine } from '@pontoon/raft';
import type { ClusterObserver, SimNode } from '../sim/cluster.js';
import { logOf } from './log-view.js';
import type { StateMachineSafety } from './state-machine-safety.js';
import type { Violation } from './violation.js';

export class LeaderCompleteness<SM extends StateMachine> implements ClusterObserver<SM> {
  constructor(
    private readonly committedLog: StateMachineSafety<SM>,
    private readonly report: (v: Omit<Violation, 'time'>) => void,
  ) {}

  roleChanged(node: SimNode<SM>, role: Role, term: number): void {
    if (role !== 'leader' || node.raft === undefined) return;
    const log = logOf(node.raft);
    const first = log.firstIndex();
    const last = log.lastIndex();
    if (last < this.committedLog.maxIndex) {
      this.report({
        property: 'leader completeness',
        message: `n${node.id} became leader of term ${term} with log ending at ${last}, but index ${this.committedLog.maxIndex} was already committed`,
      });
      return;
    }
    for (const [index, c] of this.committedLog.committed) {
      // Compacted entries are covered by the snapshot the log starts after.
      if (index < first) continue;
      const t = log.term(index);
      if (t !== c.term) {
        this.report({
          property: 'leader completeness',
          message: `n${node.id} became leader of term ${term} with term ${t} at index ${index}, where an entry of term ${c.term} was committed`,
        });
        return;
      }
    }
  }
}
