import { EntryType } from '@pontoon/raft';
import { describe, expect, it } from 'vitest';
import { KvStateMachine, workload } from '../kv-workload.js';

describe('kv workload', () => {
  it('applies puts of the requested size and answers gets with the value put', () => {
    const sm = workload.createStateMachine();
    for (const size of [128, 1024]) {
      const c = workload.command(5, size);
      expect(c.length).toBe(size);
      sm.apply({ term: 1, index: 1, type: EntryType.EntryNormal, data: c });
      expect(sm.query(workload.query(5)).length).toBe(size - 2 - 8);
    }
    expect(sm.query(workload.query(6)).length).toBe(0);
  });

  it('restores from its snapshot to the same map', () => {
    const a = new KvStateMachine();
    for (let i = 0; i < 3000; i++) a.apply({ term: 1, index: i + 1, type: EntryType.EntryNormal, data: workload.command(i, 64 + (i % 7)) });
    const b = new KvStateMachine();
    b.restore(a.snapshot());
    expect(b.map).toEqual(a.map);
  });
});
