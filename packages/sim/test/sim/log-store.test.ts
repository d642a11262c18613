import type { Entry, LogWrite } from '@pontoon/raft';
import { EntryType } from '@pontoon/raft';
import { describe, expect, it } from 'vitest';
import { NodeClock, Scheduler, SimDisk, SimRandom } from '@pontoon/sim';

function entries(from: number, n: number, term = 1): Entry[] {
  return Array.from({ length: n }, (_, k) => ({ term, index: from + k, type: EntryType.EntryNormal, data: Uint8Array.of(from + k) }));
}

function setup(options: ConstructorParameters<typeof SimDisk>[3] = {}) {
  const scheduler = new Scheduler();
  const disk = new SimDisk(1, scheduler, new SimRandom(7), { minFsyncMs: 2, maxFsyncMs: 2, ...options });
  const clock = new NodeClock(scheduler);
  const store = disk.open(clock);
  const acked: number[] = [];
  const write = (w: LogWrite): void => void store.append(w).then(() => acked.push(w.entries.at(-1)?.index ?? 0));
  return { scheduler, disk, clock, store, acked, write };
}

describe('SimDisk and SimLogStore', () => {
  it('acknowledges writes in order once their fsync completed, and shows them only then', async () => {
    const { scheduler, store, acked, write } = setup();
    write({ entries: entries(1, 2), hardState: { term: 1, vote: 1, commit: 0 } });
    write({ entries: entries(3, 1) });
    expect(store.lastIndex()).toBe(0);
    await scheduler.run(1);
    expect(acked).toEqual([]);
    await scheduler.run(5);
    expect(acked).toEqual([2, 3]);
    expect(store.lastIndex()).toBe(3);
    expect(store.initialState().hardState).toEqual({ term: 1, vote: 1, commit: 0 });
  });

  it('loses exactly the writes not yet durable in a crash', async () => {
    const { scheduler, disk, clock, acked, write } = setup();
    write({ entries: entries(1, 2) });
    await scheduler.run(5);
    write({ entries: entries(3, 2), hardState: { term: 2, vote: 1, commit: 2 } });
    clock.kill();
    expect(disk.crash()).toBe(1);
    await scheduler.run(20);
    expect(acked).toEqual([2]);
    expect(disk.durable.lastIndex()).toBe(2);
    expect(disk.durable.initialState().hardState.term).toBe(0);
  });

  it('tears the write in progress: a prefix of its entries survives, its hard state does not', async () => {
    const { scheduler, disk, clock, write } = setup({ tearOnCrash: true });
    write({ entries: entries(1, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    await scheduler.run(5);
    write({ entries: entries(2, 5), hardState: { term: 3, vote: 2, commit: 1 } });
    await scheduler.run(6);
    clock.kill();
    disk.crash();
    const last = disk.durable.lastIndex();
    expect(last).toBeGreaterThanOrEqual(2);
    expect(last).toBeLessThanOrEqual(6);
    expect(disk.durable.initialState().hardState.term).toBe(1);
    expect(disk.tornWrites).toBe(1);
  });

  it('never tears the bootstrap write of a blank disk', async () => {
    const { scheduler, disk, clock, write } = setup({ tearOnCrash: true });
    write({ entries: entries(1, 3), hardState: { term: 1, vote: 0, commit: 3 } });
    await scheduler.run(1);
    clock.kill();
    disk.crash();
    expect(disk.durable.lastIndex()).toBe(0);
    expect(disk.tornWrites).toBe(0);
  });

  it('holds fsyncs back while the disk is stalled', async () => {
    const { scheduler, disk, acked, write } = setup();
    disk.stall(50);
    write({ entries: entries(1, 1) });
    await scheduler.run(40);
    expect(acked).toEqual([]);
    await scheduler.run(60);
    expect(acked).toEqual([1]);
  });

  it('with a lying fsync, acknowledges at once and loses acknowledged writes in a crash', async () => {
    const { scheduler, disk, clock, acked, write } = setup({ lyingFsync: true, lyingFsyncLagMs: 100 });
    write({ entries: entries(1, 3) });
    await scheduler.run(10);
    expect(acked).toEqual([3]);
    clock.kill();
    disk.crash();
    expect(disk.durable.lastIndex()).toBe(0);
  });
});
