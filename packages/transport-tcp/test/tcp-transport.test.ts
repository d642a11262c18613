import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, newMessage } from '@pontoon/raft/core';
import { TcpTransport } from '../src/index.js';
import { append, cluster, heartbeat, node, openHandles, waitFor } from './helpers.js';
import type { Node } from './helpers.js';

let open: Node[] = [];
afterEach(async () => {
  await Promise.all(open.map((n) => n.t.close()));
  open = [];
});
async function start(count: number, extra = {}): Promise<Node[]> {
  const ns = await cluster(count, extra);
  open.push(...ns);
  return ns;
}

describe('TcpTransport', () => {
  it('delivers messages both ways, in order, with their payloads', async () => {
    const [a, b] = await start(2);
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    a!.t.send(Array.from({ length: 50 }, (_, i) => append(1, 2, i, data)));
    b!.t.send([heartbeat(2, 1)]);
    await waitFor(() => b!.received.length === 50 && a!.received.length === 1, 'delivery');
    expect(b!.received.map((m) => m.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...b!.received[7]!.entries[0]!.data]).toEqual([...data]);
    expect(a!.received[0]!.type).toBe(MessageType.MsgHeartbeat);
    const s = a!.t.stats().peers[2]!;
    expect(s.messagesOut).toBe(50);
    expect(b!.t.stats().peers[1]!.messagesIn).toBe(50);
    expect(b!.t.stats().peers[1]!.bytesIn).toBe(s.bytesOut);
  });

  it('sends what one turn queued in one write', async () => {
    const [a, b] = await start(2);
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const before = a!.t.stats().peers[2]!.bytesOut;
    for (let i = 0; i < 64; i++) a!.t.send([heartbeat(1, 2)]); // 64 calls, one turn
    // One frame for the 64: its size is a single frame header plus one body.
    await waitFor(() => b!.received.length === 64, 'delivery');
    const frameBytes = a!.t.stats().peers[2]!.bytesOut - before;
    expect(frameBytes).toBeLessThan(64 * 16);
    expect(b!.t.stats().peers[1]!.bytesIn).toBe(frameBytes);
  });

  it('delivers byte fields intact whatever their sizes, however writes and reads split them', async () => {
    // Small fields are copied into reused slabs, large ones written as they are, frames arrive
    // across reads and are decoded where they lie: any mix-up shows up as wrong bytes.
    const [a, b] = await start(2, { maxFrameBytes: 256 * 1024, maxQueueBytes: 64 << 20 });
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const sizes = [0, 1, 100, 1023, 1024, 4096, 70_000, 3, 5000, 65_536];
    const burst = [Infinity, Infinity];
    const payload = (index: number): Uint8Array => {
      const n = index >= burst[0] && index < burst[1] ? 1000 : sizes[index % sizes.length]!; // the burst: small, copied
      return Uint8Array.from({ length: n }, (_, i) => (index * 31 + i * 7) & 0xff);
    };
    let index = 0;
    for (let turn = 0; turn < 40; turn++) {
      // Turn 5 is a burst larger than the kernel takes at once: the socket holds on to slab
      // pieces for a while, and the turns after must not write over them.
      const count = turn === 5 ? 12_000 : 1 + (turn % 13);
      if (turn === 5) burst.splice(0, 2, index, index + count);
      a!.t.send(Array.from({ length: count }, () => append(1, 2, index, payload(index++))));
      if (turn % 4 === 0) await new Promise((r) => setImmediate(r));
      else await new Promise((r) => setTimeout(r, 1));
    }
    await waitFor(() => b!.received.length === index, 'delivery', 20_000);
    expect(a!.t.stats().peers[2]!.dropped).toBe(0);
    for (const m of b!.received) {
      expect(Buffer.compare(m.entries[0]!.data, payload(m.index)), `entry ${m.index}`).toBe(0);
    }
  });

  it('splits a turn larger than the frame limit into several frames', async () => {
    const [a, b] = await start(2, { maxFrameBytes: 8192 });
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const data = new Uint8Array(1000).fill(7);
    a!.t.send(Array.from({ length: 40 }, (_, i) => append(1, 2, i, data)));
    await waitFor(() => b!.received.length === 40, 'delivery');
    expect(b!.received.map((m) => m.index)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('streams a snapshot larger than a frame and reports it finished', async () => {
    const [a, b] = await start(2, { maxFrameBytes: 8192, chunkBytes: 4096 });
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const data = Uint8Array.from({ length: 3_000_000 }, (_, i) => (i * 7) & 0xff);
    const snap = newMessage({
      type: MessageType.MsgSnap,
      from: 1,
      to: 2,
      term: 3,
      snapshot: { data, metadata: { index: 100, term: 3, confState: { voters: [1, 2], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } },
    });
    a!.t.send([snap, heartbeat(1, 2, 3)]);
    await waitFor(() => a!.snapshots.length === 1, 'snapshot status', 10_000);
    expect(a!.snapshots).toEqual([[2, 'finished']]);
    const got = b!.received.find((m) => m.type === MessageType.MsgSnap)!;
    expect(got.snapshot!.metadata).toEqual(snap.snapshot!.metadata);
    expect(Buffer.compare(got.snapshot!.data, data)).toBe(0);
    expect(b!.received.some((m) => m.type === MessageType.MsgHeartbeat)).toBe(true);
    expect(a!.t.stats().peers[2]!.snapshotsSent).toBe(1);
  });

  it('streams a non-snapshot message over the frame limit', async () => {
    const [a, b] = await start(2, { maxFrameBytes: 8192 });
    await waitFor(() => a!.t.isConnected(2), 'connect');
    a!.t.send([append(1, 2, 5, new Uint8Array(50_000).fill(1))]);
    await waitFor(() => b!.received.length === 1, 'delivery');
    expect(b!.received[0]!.entries[0]!.data.length).toBe(50_000);
    expect(a!.snapshots).toEqual([]);
  });

  it('reports a snapshot failed when the peer dies mid-stream', async () => {
    const [a, b] = await start(2, { chunkBytes: 4096, maxFrameBytes: 8192 });
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const snap = newMessage({
      type: MessageType.MsgSnap,
      from: 1,
      to: 2,
      term: 3,
      snapshot: { data: new Uint8Array(20_000_000), metadata: { index: 100, term: 3, confState: { voters: [1, 2], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } },
    });
    a!.t.send([snap]);
    await waitFor(() => b!.t.stats().peers[1]?.bytesIn !== undefined && b!.t.stats().peers[1]!.bytesIn > 100_000, 'stream under way');
    await b!.t.close();
    await waitFor(() => a!.snapshots.length === 1, 'snapshot status');
    expect(a!.snapshots).toEqual([[2, 'failed']]);
  });

  it('drops and reports unreachable when the peer is down, never buffering', async () => {
    const a = await node(1);
    open.push(a);
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const port = (dead.address() as net.AddressInfo).port;
    await new Promise((r) => dead.close(r)); // nothing listens there now
    a.t.addPeer(2, `127.0.0.1:${port}`);
    await waitFor(() => a.logger.has(/cannot connect to peer 2/), 'a failed connect');
    for (let i = 0; i < 100; i++) a.t.send([heartbeat(1, 2)]);
    await waitFor(() => a.unreachable.length > 0, 'unreachable report');
    expect(a.unreachable.every((id) => id === 2)).toBe(true);
    expect(a.t.stats().peers[2]!.dropped).toBeGreaterThanOrEqual(90);
    expect(a.t.queuedBytes(2)).toBeLessThan(100 * 64);
  });

  it('bounds the queue in bytes: past it, drops and reports', async () => {
    const [a, b] = await start(2, { maxQueueBytes: 64 * 1024 });
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const data = new Uint8Array(1024);
    a!.t.send(Array.from({ length: 200 }, (_, i) => append(1, 2, i, data))); // ~210 KiB in one turn
    await waitFor(() => a!.unreachable.includes(2), 'unreachable report');
    const s = a!.t.stats().peers[2]!;
    expect(s.dropped).toBeGreaterThan(100);
    expect(s.messagesOut + s.dropped).toBe(200);
    await waitFor(() => b!.received.length === s.messagesOut, 'the rest delivered');
  });

  it('reconnects after its socket is killed mid-stream, and messages flow again', async () => {
    const [a, b] = await start(2);
    await waitFor(() => a!.t.isConnected(2), 'connect');
    let sent = 0;
    const pump = setInterval(() => {
      a!.t.send([append(1, 2, sent++, Uint8Array.of(1))]);
    }, 1);
    try {
      await waitFor(() => b!.received.length > 20, 'first messages');
      // Kill every inbound socket of b (what a process crash or a network fault would do).
      const rawSockets = (b!.t as unknown as { rawSockets: Set<net.Socket> }).rawSockets;
      for (const s of rawSockets) s.destroy();
      const atKill = b!.received.length;
      await waitFor(() => a!.t.stats().peers[2]!.reconnects >= 1 && a!.t.isConnected(2), 'reconnect');
      await waitFor(() => b!.received.length > atKill + 20, 'messages after reconnect');
    } finally {
      clearInterval(pump);
    }
    expect(a!.logger.has(/lost connection to peer 2/)).toBe(true);
  });

  it('redials at once, not after its backoff, when the peer it lost connects to it', async () => {
    // A port that is free now: the peer will come up on it later.
    const probe = await node(2);
    const address = probe.t.address!;
    await probe.t.close();
    // A backoff long enough that only the early redial can connect within the test's bound.
    const a = await node(1, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    open.push(a);
    a.t.addPeer(2, address);
    await waitFor(() => a.logger.has(/cannot connect to peer 2/), 'the first dial to fail');
    const [host, port] = address.split(':');
    const b = await node(2, { listen: { host: host!, port: Number(port) } });
    open.push(b);
    b.t.addPeer(1, a.t.address!);
    b.t.send([heartbeat(2, 1)]); // b dials a: a learns that 2 is back
    await waitFor(() => a.t.isConnected(2), 'a redialling 2 after 2 connected to it');
    a.t.send([heartbeat(1, 2, 9)]);
    await waitFor(() => b.received.some((m) => m.term === 9), 'delivery to the restarted peer');
  });

  it('follows a peer to a new address', async () => {
    const [a, b] = await start(2);
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const b2 = await node(2);
    b2.t.addPeer(1, a!.t.address!);
    open.push(b2);
    a!.t.addPeer(2, b2.t.address!);
    a!.t.send([heartbeat(1, 2)]); // may be dropped while redialling: Raft resends
    await waitFor(() => a!.t.isConnected(2), 'connect to the new address');
    a!.t.send([heartbeat(1, 2, 7)]);
    await waitFor(() => b2.received.some((m) => m.term === 7), 'delivery at the new address');
    expect(b!.received.some((m) => m.term === 7)).toBe(false);
  });

  it('refuses peers it does not know, and removePeer closes both directions', async () => {
    const [a, b] = await start(2);
    await waitFor(() => a!.t.isConnected(2) && b!.t.isConnected(1), 'connect');
    const c = await node(3);
    open.push(c);
    c.t.addPeer(1, a!.t.address!);
    // Both ends log it: a as it refuses, c once the refusal reaches it.
    await waitFor(() => a!.t.stats().connectionsRefused >= 1 && c.t.stats().refusedByPeers >= 1, 'refusal');
    expect(a!.logger.has(/refused connection .*\(unknown-sender\): node 3 is not a known peer/)).toBe(true);
    expect(c.logger.has(/peer 1 at .* refused our handshake \(unknown-sender\)/)).toBe(true);
    a!.t.removePeer(2);
    a!.t.send([heartbeat(1, 2)]);
    await waitFor(() => a!.unreachable.includes(2), 'unreachable after removal');
    expect(a!.t.isConnected(2)).toBe(false);
  });

  it('refuses a node of another cluster', async () => {
    const a = await node(1);
    const b = await node(2, { clusterId: 'other' });
    open.push(a, b);
    a.t.addPeer(2, b.t.address!);
    b.t.addPeer(1, a.t.address!);
    await waitFor(() => a.t.stats().connectionsRefused >= 1 && b.t.stats().connectionsRefused >= 1, 'refusals');
    expect(a.logger.has(/\(cluster\): cluster id "other" is not ours \("test"\)/)).toBe(true);
    expect(a.t.isConnected(2)).toBe(false);
  });

  it('keeps the connection when the message handler throws', async () => {
    const [a, b] = await start(2);
    let calls = 0;
    b!.t.onMessage(() => {
      calls++;
      throw new Error('node refused it');
    });
    a!.t.send([heartbeat(1, 2), heartbeat(1, 2)]);
    await waitFor(() => calls === 2, 'handler calls');
    a!.t.send([heartbeat(1, 2)]);
    await waitFor(() => calls === 3, 'still connected');
    expect(b!.t.stats().protocolErrors).toBe(0);
  });

  it('close() leaves no socket, server or timer open', async () => {
    const before = openHandles();
    const ns = await cluster(3);
    for (const n of ns) for (const m of ns) if (n !== m) n.t.send([heartbeat(n.t.id, m.t.id)]);
    await waitFor(() => ns.every((n) => n.received.length === 2), 'delivery');
    // A peer that never answers, so that a reconnect timer is pending at close.
    ns[0]!.t.addPeer(9, '127.0.0.1:1');
    await Promise.all(ns.map((n) => n.t.close()));
    const after = openHandles();
    for (const k of ['TCPSocketWrap', 'TCPServerWrap', 'ConnectWrap', 'Timeout', 'Immediate']) {
      expect(after[k] ?? 0, k).toBeLessThanOrEqual(before[k] ?? 0);
    }
    // Closing twice is fine; using it after is a no-op.
    await ns[0]!.t.close();
    ns[0]!.t.send([heartbeat(1, 2)]);
  });

  it('rejects bad options and addresses', () => {
    expect(() => new TcpTransport({ id: 0, clusterId: 'x' })).toThrow(/id/);
    expect(() => new TcpTransport({ id: 1, clusterId: '' })).toThrow(/clusterId/);
    const t = new TcpTransport({ id: 1, clusterId: 'x' });
    expect(() => t.addPeer(2, 'nope')).toThrow(/host:port/);
    expect(() => t.addPeer(1, '127.0.0.1:5')).toThrow(RangeError);
    void t.close();
  });
});
