/**
 * The Wing–Gong search, with Lowe's memoization, as Porcupine runs it: over one (sub-)history.
 *
 * Calls and returns form one list sorted by time. At each node of the search, the operations
 * that may take effect next are those whose call comes before the first return still in the
 * list; linearizing one applies it to the model and "lifts" its call and return out of the list,
 * when the model accepts it and the pair (set of linearized operations, model state) is new.
 * When none works, nothing explains that first return, and the search backtracks. The history is
 * linearizable once every operation with a known outcome is lifted.
 *
 * The candidates are tried in Lowe's just-in-time order: first the operation whose return is
 * due, then the others in time order. The set of candidates is WGL's, so the verdict is the
 * same; the order finds the linearization of a correct history with far less speculation
 * (etcd_002 of the Jepsen set: 106 steps instead of 1.36 million).
 */
import type { Operation } from './history.js';
import type { Model } from './model.js';
import { Bitset } from './bitset.js';
import { MemoTable } from './memo-table.js';
import { InvalidHistoryError } from './invalid-history-error.js';

const NIL = -1;

/** Where a search stopped: done with a verdict, or out of its slice of time. */
export type SearchStatus = 'ok' | 'illegal' | 'running';

/**
 * A resumable search over one history: `run(untilMs)` works until it has a verdict or the clock
 * passes `untilMs`, so a caller can bound it in time and yield to the event loop between slices.
 */
export class LinearizabilitySearch<S, I, O> {
  /** Operations of this history, indexed by operation id. */
  readonly operations: readonly Operation<I, O>[];
  /** Position in the sorted event list of each operation's return (Infinity-returning ops last). */
  readonly returnPosition: Int32Array;
  /** Position in the sorted event list of each operation's call. */
  readonly callPosition: Int32Array;

  private readonly model: Model<S, I, O>;
  // Dancing-links list over 2n events plus a head sentinel at index 2n; events are numbered
  // in sorted order, so an event's number is its position in time.
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly eventOp: Int32Array;
  private readonly isCall: Uint8Array;
  private readonly match: Int32Array;
  /** For a return event, its call event. */
  private readonly callOf: Int32Array;
  private readonly head: number;
  private readonly unknown: Uint8Array;
  private readonly outputs: (O | undefined)[];

  private readonly linearized: Bitset;
  private readonly memo: MemoTable;
  private readonly stackEvent: Int32Array;
  private readonly stackForced: Int32Array;
  /** The node's forced return: the first return in the list, whose operation must go next or soon. */
  private forced: number;
  private readonly stackState: S[] = [];
  private readonly stackKey: string[] = [];
  private stateKey: string;
  private depth = 0;
  private state: S;
  private event: number;
  private status: SearchStatus = 'running';

  /** Iterations of the main loop so far (for benchmarks and tests of the time bound). */
  steps = 0;
  /** The furthest return event the search reached without explaining it (-1: none yet). */
  bestFailure = NIL;
  /** The linearization (operation ids in order) in hand when it got there. */
  bestLinearization: readonly number[] = [];

  constructor(model: Model<S, I, O>, operations: readonly Operation<I, O>[]) {
    this.model = model;
    this.operations = operations;
    const n = operations.length;
    this.unknown = new Uint8Array(n);
    this.outputs = new Array<O | undefined>(n);
    const callTime = new Float64Array(n);
    const returnTime = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const op = operations[i]!;
      if (typeof op.call !== 'number' || !Number.isFinite(op.call)) {
        throw new InvalidHistoryError(i, `call time must be a finite number, got ${String(op.call)}`);
      }
      callTime[i] = op.call;
      if (op.outcome === 'unknown') {
        // The client never learned the outcome: the operation may take effect at any time after
        // its call, so it returns at the end of time whatever the history says.
        this.unknown[i] = 1;
        returnTime[i] = Infinity;
        this.outputs[i] = undefined;
      } else {
        // An operation that completed has a finite return; one that never returned is 'unknown'.
        if (typeof op.return !== 'number' || !Number.isFinite(op.return)) {
          throw new InvalidHistoryError(i, `an operation with outcome 'ok' needs a finite return time, got ${String(op.return)}`);
        }
        if (op.return < op.call) throw new InvalidHistoryError(i, `return time ${op.return} is before call time ${op.call}`);
        returnTime[i] = op.return;
        this.outputs[i] = op.output;
      }
    }

    // Event e < n is the call of op e, e >= n the return of op e - n; sort them by time, calls
    // before returns at equal times (operations that touch at an instant are concurrent).
    const order = new Array<number>(2 * n);
    for (let e = 0; e < 2 * n; e++) order[e] = e;
    const timeOf = (e: number): number => (e < n ? callTime[e]! : returnTime[e - n]!);
    order.sort((a, b) => {
      const ta = timeOf(a);
      const tb = timeOf(b);
      if (ta !== tb) return ta < tb ? -1 : 1;
      const ka = a < n ? 0 : 1;
      const kb = b < n ? 0 : 1;
      if (ka !== kb) return ka - kb;
      return a - b;
    });

    this.head = 2 * n;
    this.next = new Int32Array(2 * n + 1);
    this.prev = new Int32Array(2 * n + 1);
    this.eventOp = new Int32Array(2 * n);
    this.isCall = new Uint8Array(2 * n);
    this.match = new Int32Array(2 * n);
    this.callPosition = new Int32Array(n);
    this.returnPosition = new Int32Array(n);
    for (let pos = 0; pos < 2 * n; pos++) {
      const e = order[pos]!;
      if (e < n) {
        this.eventOp[pos] = e;
        this.isCall[pos] = 1;
        this.callPosition[e] = pos;
      } else {
        this.eventOp[pos] = e - n;
        this.returnPosition[e - n] = pos;
      }
    }
    this.callOf = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) {
      this.match[this.callPosition[i]!] = this.returnPosition[i]!;
      this.callOf[this.returnPosition[i]!] = this.callPosition[i]!;
    }
    for (let pos = 0; pos < 2 * n; pos++) {
      this.next[pos] = pos + 1 < 2 * n ? pos + 1 : NIL;
      this.prev[pos] = pos === 0 ? this.head : pos - 1;
    }
    this.next[this.head] = n > 0 ? 0 : NIL;
    this.prev[this.head] = NIL;

    this.linearized = new Bitset(n);
    this.memo = new MemoTable(this.linearized.words.length);
    this.stackEvent = new Int32Array(n);
    this.stackForced = new Int32Array(n);
    this.state = model.init();
    this.stateKey = model.key(this.state);
    this.forced = NIL;
    this.event = NIL;
    if (n === 0) {
      this.status = 'ok';
    } else {
      // The first return of the whole history is the root's forced operation.
      let first = 0;
      while (this.isCall[first] === 1) first++;
      if (this.unknown[this.eventOp[first]!] === 1) this.status = 'ok';
      this.forced = first;
      this.event = this.callOf[first]!;
    }
  }

  /** The verdict so far: 'running' until the search has finished. */
  get verdict(): SearchStatus {
    return this.status;
  }

  /**
   * Searches until a verdict, until the clock passes `untilMs` (`performance.now()` time,
   * looked at only every few thousand steps), or until `steps` reaches `maxSteps` (exactly: a
   * budget in steps stops every run at the same point on any machine). Returns the status it
   * stopped in.
   */
  run(untilMs: number, signal?: AbortSignal, maxSteps = Infinity): SearchStatus {
    if (this.status !== 'running') return this.status;
    const { model, next, prev, isCall, eventOp, match, callOf, head, linearized, stackEvent, stackForced, stackState, stackKey, outputs, unknown } = this;
    const ops = this.operations;
    let state = this.state;
    let stateKey = this.stateKey;
    let event = this.event;
    let forced = this.forced;
    let depth = this.depth;
    let steps = this.steps;
    let status: SearchStatus = 'running';

    for (;;) {
      if (steps >= maxSteps) break;
      steps++;
      if ((steps & 0xfff) === 0 && (performance.now() > untilMs || signal?.aborted === true)) break;
      if (event !== forced) {
        // `event` is a call: try to linearize its operation here.
        const op = eventOp[event]!;
        const nextState = model.step(state, ops[op]!.input, outputs[op]);
        const nextKey = nextState === undefined ? undefined : model.key(nextState);
        if (
          nextKey !== undefined &&
          // An operation of unknown outcome that would leave the state as it is (a lost read, a
          // failed cas) need never be linearized here: whatever follows works as well without it.
          (unknown[op] === 0 || nextKey !== stateKey) &&
          this.memo.add(linearized, op, nextKey)
        ) {
          stackEvent[depth] = event;
          stackForced[depth] = forced;
          stackState[depth] = state;
          stackKey[depth] = stateKey;
          depth++;
          state = nextState!;
          stateKey = nextKey;
          linearized.set(op);
          // Lift the call and its return out of the list.
          const ret = match[event]!;
          next[prev[event]!] = next[event]!;
          prev[next[event]!] = prev[event]!;
          next[prev[ret]!] = next[ret]!;
          if (next[ret] !== NIL) prev[next[ret]!] = prev[ret]!;
          // A new node: its forced operation is the one whose return now comes first.
          if (next[head] === NIL) {
            status = 'ok';
            break;
          }
          let first = next[head]!;
          while (isCall[first] === 1) first = next[first]!;
          if (unknown[eventOp[first]!] === 1) {
            // Returns at Infinity sort after every known return, so every operation with a
            // known outcome is linearized; the unknown ones left never took effect.
            status = 'ok';
            break;
          }
          forced = first;
          event = callOf[first]!;
        } else {
          event = this.advance(event, forced);
        }
        continue;
      }
      // Every candidate at this node failed: nothing explains the forced operation's return.
      if (forced > this.bestFailure) {
        this.bestFailure = forced;
        const lin = new Array<number>(depth);
        for (let d = 0; d < depth; d++) lin[d] = eventOp[stackEvent[d]!]!;
        this.bestLinearization = lin;
      }
      if (depth === 0) {
        status = 'illegal';
        break;
      }
      depth--;
      const call = stackEvent[depth]!;
      forced = stackForced[depth]!;
      state = stackState[depth]!;
      stateKey = stackKey[depth]!;
      stackState[depth] = undefined as unknown as S; // let the state be collected
      linearized.clear(eventOp[call]!);
      // Unlift in the reverse order of the lift, so each event's neighbours are as it left them.
      const ret = match[call]!;
      next[prev[ret]!] = ret;
      if (next[ret] !== NIL) prev[next[ret]!] = ret;
      next[prev[call]!] = call;
      prev[next[call]!] = call;
      event = this.advance(call, forced);
    }

    this.state = state;
    this.stateKey = stateKey;
    this.event = event;
    this.forced = forced;
    this.depth = depth;
    this.steps = steps;
    this.status = status;
    return status;
  }

  /**
   * The candidate after `call` at a node whose forced return is `forced`. Candidates are the
   * calls before the first return: the forced operation's own call first (linearize as late
   * as possible, Lowe's just-in-time order: most histories need no speculation), then the others
   * in time order. Returns `forced` itself when there are no more.
   */
  private advance(call: number, forced: number): number {
    const forcedCall = this.callOf[forced]!;
    let e = call === forcedCall ? this.next[this.head]! : this.next[call]!;
    if (e === forcedCall) e = this.next[e]!;
    return e;
  }

  /** Size of the memo table (distinct (linearized set, state) pairs reached). */
  get cacheSize(): number {
    return this.memo.size;
  }
}
