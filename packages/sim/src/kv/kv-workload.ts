/**
 * The KV workload: gets, puts and appends over a few keys (few, so that clients contend), with
 * values unique per operation so that a history pins down which write a read saw.
 */
import type { KvInput, KvOutput } from '../linearizability/models/kv.js';
import type { SimRandom } from '../sim/random.js';
import type { ClientOperation, Workload } from '../sim/workload.js';
import { encodeKvWrite } from './kv-command.js';
import type { KvStateMachine } from './kv-state-machine.js';

/** Shape of the KV workload. */
export interface KvWorkloadOptions {
  /** Number of keys. Default 4. */
  keys?: number;
  /** Share of operations that are reads. Default 0.3. */
  readRatio?: number;
}

export function kvWorkload(options: KvWorkloadOptions = {}): Workload<KvStateMachine, KvInput, KvOutput> {
  const keys = options.keys ?? 4;
  const readRatio = options.readRatio ?? 0.3;
  return {
    next(rand: SimRandom, clientId: number, seq: number): ClientOperation<KvStateMachine, KvInput, KvOutput> {
      const key = `k${rand.intn(keys)}`;
      if (rand.chance(readRatio)) {
        return { kind: 'read', input: { op: 'get', key }, read: (sm) => ({ op: 'get', value: sm.get(key) }) };
      }
      const value = `${clientId}.${seq};`;
      const op = rand.chance(0.5) ? 'put' : 'append';
      return {
        kind: 'write',
        input: { op, key, value },
        command: encodeKvWrite({ op, key, value }),
        output: (r) => ({ op: r.op }),
      };
    },
  };
}
