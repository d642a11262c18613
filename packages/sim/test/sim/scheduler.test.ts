import { describe, expect, it } from 'vitest';
import { NodeClock, Scheduler } from '@pontoon/sim';

describe('Scheduler', () => {
  it('runs events in time order, ties in the order they were scheduled', async () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.schedule(5, () => seen.push('b@5'));
    s.schedule(1, () => seen.push('a@1'));
    s.schedule(5, () => seen.push('c@5'));
    await s.run(10);
    expect(seen).toEqual(['a@1', 'b@5', 'c@5']);
    expect(s.now()).toBe(10);
  });

  it('lets a promise chain started by an event finish before time moves on', async () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.schedule(1, () => {
      let p = Promise.resolve();
      for (let i = 0; i < 50; i++) p = p.then(() => undefined);
      void p.then(() => seen.push(`chain done at ${s.now()}`));
    });
    s.schedule(2, () => seen.push('next event'));
    await s.run(5);
    expect(seen).toEqual(['chain done at 1', 'next event']);
  });

  it('lets no virtual time pass while held real work is pending, however long it takes', async () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.schedule(1, () => {
      // Real I/O stand-in: settles after several turns of the event loop, not one.
      const work = new Promise<void>((resolve) => setTimeout(resolve, 20));
      void s.hold(work).then(() => seen.push(`io done at ${s.now()}`));
      s.schedule(0, () => seen.push(`immediate at ${s.now()}`));
    });
    s.schedule(2, () => seen.push(`next event at ${s.now()}`));
    await s.run(5);
    expect(seen).toEqual(['immediate at 1', 'io done at 1', 'next event at 2']);
  });

  it('runs 0 ms timers after the microtasks of the current step, at the same time', async () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.schedule(3, () => {
      s.schedule(0, () => seen.push(`immediate at ${s.now()}`));
      void Promise.resolve().then(() => seen.push('microtask'));
    });
    await s.run(5);
    expect(seen).toEqual(['microtask', 'immediate at 3']);
  });

  it('skips cancelled events and stops when done() says so', async () => {
    const s = new Scheduler();
    const seen: number[] = [];
    const e = s.schedule(1, () => seen.push(1));
    s.cancel(e);
    for (let t = 2; t <= 6; t++) s.schedule(t, () => seen.push(t));
    await s.run(100, () => seen.length === 3);
    expect(seen).toEqual([2, 3, 4]);
    expect(s.now()).toBe(4);
  });

  it('rethrows what an event threw', async () => {
    const s = new Scheduler();
    s.schedule(1, () => {
      throw new Error('boom');
    });
    await expect(s.run(5)).rejects.toThrow('boom');
  });
});

describe('NodeClock', () => {
  it('measures timeouts on its own skewed scale', async () => {
    const s = new Scheduler();
    const fast = new NodeClock(s);
    fast.setRate(2);
    let firedAt = -1;
    fast.setTimeout(() => (firedAt = s.now()), 100);
    await s.run(200);
    expect(firedAt).toBe(50);
    expect(fast.now()).toBe(400);
  });

  it('holds everything of a paused process until it resumes, and runs nothing once killed', async () => {
    const s = new Scheduler();
    const c = new NodeClock(s);
    const seen: string[] = [];
    c.setTimeout(() => seen.push(`timer at ${s.now()}`), 10);
    c.pause();
    s.schedule(20, () => c.gate(() => seen.push(`delivery at ${s.now()}`)));
    s.schedule(30, () => c.resume());
    await s.run(40);
    expect(seen).toEqual(['timer at 30', 'delivery at 30']);
    c.setTimeout(() => seen.push('after kill'), 5);
    c.kill();
    c.gate(() => seen.push('gated after kill'));
    await s.run(100);
    expect(seen).toHaveLength(2);
  });
});
