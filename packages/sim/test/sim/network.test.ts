import type { Message } from '@pontoon/raft';
import { MessageType, newMessage } from '@pontoon/raft/core';
import { describe, expect, it } from 'vitest';
import { NodeClock, Scheduler, SimNetwork, SimRandom } from '@pontoon/sim';

function setup(options: ConstructorParameters<typeof SimNetwork>[2] = {}) {
  const scheduler = new Scheduler();
  const net = new SimNetwork(scheduler, new SimRandom(3), options);
  const received = new Map<number, Message[]>();
  const unreachable: Array<[number, number]> = [];
  const transports = [1, 2, 3].map((id) => {
    const t = net.attach(id, new NodeClock(scheduler));
    received.set(id, []);
    t.onMessage((m) => received.get(id)!.push(m));
    t.onUnreachable((peer) => unreachable.push([id, peer]));
    return t;
  });
  const send = (from: number, to: number): void => transports[from - 1]!.send([newMessage({ type: MessageType.MsgHeartbeat, from, to, term: 1 })]);
  return { scheduler, net, received, unreachable, send };
}

describe('SimNetwork', () => {
  it('delivers a copy of each message after a latency within the bounds', async () => {
    const { scheduler, received, send } = setup({ minLatencyMs: 2, maxLatencyMs: 3, reorderRate: 0 });
    send(1, 2);
    await scheduler.run(1);
    expect(received.get(2)).toHaveLength(0);
    await scheduler.run(3);
    expect(received.get(2)).toHaveLength(1);
  });

  it('cuts one direction only in a one-way partition, and reports the sender an unreachable peer', async () => {
    const { scheduler, net, received, unreachable, send } = setup();
    net.cutLink(1, 2);
    send(1, 2);
    send(2, 1);
    await scheduler.run(100);
    expect(received.get(2)).toHaveLength(0);
    expect(received.get(1)).toHaveLength(1);
    expect(unreachable).toEqual([[1, 2]]);
    net.healLink(1, 2);
    send(1, 2);
    await scheduler.run(200);
    expect(received.get(2)).toHaveLength(1);
  });

  it('keeps a link cut while any of the faults that cut it lasts', async () => {
    const { scheduler, net, received, send } = setup();
    net.cutLink(1, 3);
    net.cutLink(1, 3);
    net.healLink(1, 3);
    send(1, 3);
    await scheduler.run(100);
    expect(received.get(3)).toHaveLength(0);
  });

  it('loses and duplicates messages during a burst, and stops when it ends', async () => {
    const { scheduler, net, received, send } = setup();
    const end = net.burst(0.5, 0.5);
    for (let i = 0; i < 200; i++) send(1, 2);
    await scheduler.run(100);
    const during = received.get(2)!.length;
    expect(net.stats.duplicated).toBeGreaterThan(20);
    expect(net.stats.dropped).toBeGreaterThan(40);
    expect(during).toBeGreaterThan(60);
    end();
    for (let i = 0; i < 100; i++) send(1, 2);
    await scheduler.run(200);
    expect(received.get(2)!.length - during).toBe(100);
  });

  it('delivers late duplicates up to maxDelayMs after the original while the fault lasts, none after', async () => {
    const { scheduler, net, received, send } = setup({ minLatencyMs: 1, maxLatencyMs: 4, reorderRate: 0 });
    const end = net.lateDuplicates(0.5, 300);
    for (let i = 0; i < 200; i++) send(1, 2);
    await scheduler.run(100);
    const byFirst100 = received.get(2)!.length;
    await scheduler.run(400);
    const copies = received.get(2)!.length - 200;
    expect(net.stats.duplicated).toBe(copies);
    expect(copies).toBeGreaterThan(60);
    expect(copies).toBeLessThan(140);
    // Spread over the delay, not all at once: the originals and some copies in the first 100 ms
    // (a third of the delay), most copies later.
    expect(byFirst100).toBeGreaterThan(200);
    expect(received.get(2)!.length - byFirst100).toBeGreaterThan(byFirst100 - 200);
    end();
    for (let i = 0; i < 100; i++) send(1, 2);
    await scheduler.run(1000);
    expect(received.get(2)!.length - 200 - copies).toBe(100);
  });

  it('drops a late duplicate addressed to an incarnation that has since restarted', async () => {
    const { scheduler, net, received, send } = setup({ minLatencyMs: 1, maxLatencyMs: 4, reorderRate: 0 });
    net.lateDuplicates(1, 1000);
    for (let i = 0; i < 50; i++) send(1, 2);
    await scheduler.run(5);
    const beforeRestart = received.get(2)!.length;
    expect(beforeRestart).toBeGreaterThanOrEqual(50);
    // Node 2 restarts: a new endpoint; copies sent to the old one never reach it.
    const fresh: Message[] = [];
    net.attach(2, new NodeClock(scheduler)).onMessage((m) => fresh.push(m));
    await scheduler.run(1100);
    expect(fresh).toHaveLength(0);
    expect(received.get(2)).toHaveLength(beforeRestart);
    expect(net.stats.duplicated).toBe(50);
  });
});
