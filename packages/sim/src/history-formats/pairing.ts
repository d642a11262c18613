/**
 * Turning a stream of invocations and completions into operations: each process has at most
 * one operation in flight, and its next completion closes it. Time is the event's index.
 */
import type { History, Operation } from '../linearizability/history.js';
import { HistoryParseError } from './history-parse-error.js';

interface Pending<I> {
  readonly input: I;
  readonly call: number;
  readonly line: number;
  readonly f: string;
}

/**
 * Collects operations from events in file order. Completion semantics, as in Jepsen:
 * `ok` happened, `fail` did not happen (the operation is dropped), `info` may or may not have
 * happened (outcome unknown). An invocation still open at the end of the file is unknown too.
 */
export class OperationPairing<I, O> {
  private readonly pending = new Map<number, Pending<I>>();
  private readonly operations: Operation<I, O>[] = [];
  private time = 0;

  invoke(line: number, process: number, f: string, input: I): void {
    const open = this.pending.get(process);
    if (open !== undefined) {
      throw new HistoryParseError(line, `process ${process} invokes :${f} while its :${open.f} from line ${open.line} has not completed`);
    }
    this.pending.set(process, { input, call: this.time++, line, f });
  }

  /** Closes the process's open operation; returns its input so the caller can build the output. */
  open(line: number, process: number, f: string): Pending<I> {
    const open = this.pending.get(process);
    if (open === undefined) throw new HistoryParseError(line, `process ${process} completes :${f} but has no operation in flight`);
    if (open.f !== f) {
      throw new HistoryParseError(line, `process ${process} completes :${f} but invoked :${open.f} on line ${open.line}`);
    }
    return open;
  }

  ok(process: number, output: O): void {
    const open = this.pending.get(process)!;
    this.pending.delete(process);
    this.operations.push({ clientId: process, input: open.input, call: open.call, return: this.time++, outcome: 'ok', output });
  }

  fail(process: number): void {
    this.pending.delete(process);
    this.time++;
  }

  info(process: number): void {
    const open = this.pending.get(process)!;
    this.pending.delete(process);
    this.time++;
    this.operations.push({ clientId: process, input: open.input, call: open.call, return: Infinity, outcome: 'unknown' });
  }

  /** The history, in call order; operations still open become unknown. */
  finish(): History<I, O> {
    for (const [process, open] of this.pending) {
      this.operations.push({ clientId: process, input: open.input, call: open.call, return: Infinity, outcome: 'unknown' });
    }
    this.pending.clear();
    return this.operations.sort((a, b) => a.call - b.call);
  }
}
