import type { Entry, StateMachine } from '@pontoon/raft';
import { explore, formatFailure, type Model, type Workload } from '@pontoon/sim';

// 1. Your replicated state machine: here, a counter.
class Counter implements StateMachine<number> {
  value = 0;
  apply(entry: Readonly<Entry>): number {
    return (this.value += entry.data[0]!);
  }
  snapshot = (): Uint8Array => new TextEncoder().encode(String(this.value));
  restore = (data: Uint8Array): void => void (this.value = Number(new TextDecoder().decode(data)));
}

// 2. What its clients do: add 1..5 (a write through Raft) or read (linearizable, via ReadIndex).
type Input = { op: 'add'; n: number } | { op: 'read' };
const workload: Workload<Counter, Input, number> = {
  next(rand) {
    if (rand.chance(0.3)) return { kind: 'read', input: { op: 'read' }, read: (c) => c.value };
    const n = rand.between(1, 5);
    return { kind: 'write', input: { op: 'add', n }, command: Uint8Array.of(n), output: (total) => total };
  },
};

// 3. The sequential specification every client history must be linearizable against.
const model: Model<number, Input, number> = {
  name: 'counter',
  init: () => 0,
  step: (total, input, output) => {
    const next = input.op === 'add' ? total + input.n : total;
    return output === undefined || output === next ? next : undefined;
  },
  key: (total) => String(total),
};

// 4. 20 seeds, each a 3-node cluster under its own random crashes, partitions, pauses,
//    message loss, clock skew and disk stalls, checked for Raft's safety properties too.
export const report = await explore({ stateMachine: () => new Counter(), workload, model, clients: { writes: 40 } }, { runs: 20 });
for (const failure of report.failures) console.log(formatFailure(failure)); // seed + shrunk schedule
console.log(`${report.passed}/${report.runs} runs passed`);
