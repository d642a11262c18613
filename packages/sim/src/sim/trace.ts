/**
 * A readable account of a run for replay(): role changes, crashes and restarts, faults,
 * commits (applied ranges), client outcomes, and between them a summary of the messages sent.
 */
import type { Entry, Message, Role, StateMachine } from '@pontoon/raft';
import { MessageType } from '@pontoon/raft';
import type { ClusterObserver, SimNode } from './cluster.js';
import type { Scheduler } from './scheduler.js';

export class Tracer<SM extends StateMachine> implements ClusterObserver<SM> {
  readonly lines: string[] = [];
  private readonly messages = new Map<string, number>();
  /** Per node, the applied range not yet printed. */
  private readonly appliedRange = new Map<number, [number, number]>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly sink?: (line: string) => void,
  ) {}

  /** Adds a line at the current virtual time (after flushing what accumulated). */
  note(text: string): void {
    this.flushMessages();
    this.flushApplied();
    this.emit(text);
  }

  sent(m: Message): void {
    const name = MessageType[m.type] ?? String(m.type);
    this.messages.set(name, (this.messages.get(name) ?? 0) + 1);
  }

  started(node: SimNode<SM>, index: number): void {
    this.note(`n${node.id} started (incarnation ${node.incarnation})${index > 0 ? `, state machine from snapshot at ${index}` : ''}`);
  }

  crashed(node: SimNode<SM>, lostWrites: number): void {
    this.note(`n${node.id} crashed, losing ${lostWrites} unsynced write(s)`);
  }

  roleChanged(node: SimNode<SM>, role: Role, term: number): void {
    this.note(`n${node.id} is ${role} in term ${term}`);
  }

  restored(node: SimNode<SM>, index: number): void {
    this.note(`n${node.id} installed a snapshot at index ${index}`);
  }

  applied(node: SimNode<SM>, e: Readonly<Entry>): void {
    const r = this.appliedRange.get(node.id);
    if (r !== undefined && e.index <= r[1] + 8) r[1] = e.index;
    else {
      if (r !== undefined) this.emitApplied(node.id, r);
      this.appliedRange.set(node.id, [e.index, e.index]);
    }
  }

  error(node: SimNode<SM>, err: Error): void {
    this.note(`n${node.id} stopped on an error: ${err.message}`);
  }

  /** Prints what is pending (at the end of a run). */
  flush(): void {
    this.flushMessages();
    this.flushApplied();
  }

  private flushMessages(): void {
    if (this.messages.size === 0) return;
    const parts = [...this.messages].map(([k, v]) => `${k.replace(/^Msg/, '')} x${v}`);
    this.messages.clear();
    this.emit(`  messages: ${parts.join(', ')}`);
  }

  private flushApplied(): void {
    for (const [id, r] of this.appliedRange) this.emitApplied(id, r);
    this.appliedRange.clear();
  }

  private emitApplied(id: number, r: [number, number]): void {
    this.emit(`  n${id} applied ${r[0] === r[1] ? `index ${r[0]}` : `indexes ${r[0]}..${r[1]}`}`);
  }

  private emit(text: string): void {
    const line = `[${this.scheduler.now().toFixed(0).padStart(6)} ms] ${text}`;
    this.lines.push(line);
    this.sink?.(line);
  }
}
