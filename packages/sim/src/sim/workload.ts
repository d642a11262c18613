/**
 * What simulated clients do: a workload draws each client's next operation. An operation is a
 * write (a command proposed through Raft, whose result the proposer's apply() returns) or a
 * read (a function run against the state machine at a linearizable point).
 */
import type { ApplyResult, StateMachine } from '@pontoon/raft';
import type { SimRandom } from './random.js';

/** A write: `command` is proposed; `output` turns the apply result into the history's output. */
export interface WriteOperation<SM extends StateMachine, I, O> {
  kind: 'write';
  input: I;
  command: Uint8Array;
  output(result: ApplyResult<SM>): O;
}

/** A read: `read` runs on the state machine of the node that serves it. */
export interface ReadOperation<SM extends StateMachine, I, O> {
  kind: 'read';
  input: I;
  read(stateMachine: SM): O;
}

export type ClientOperation<SM extends StateMachine, I, O> = WriteOperation<SM, I, O> | ReadOperation<SM, I, O>;

/** Draws client operations. `seq` counts the client's operations from 0. */
export interface Workload<SM extends StateMachine, I, O> {
  next(rand: SimRandom, clientId: number, seq: number): ClientOperation<SM, I, O>;
}
