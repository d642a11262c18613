/**
 * Streamed snapshots (Transport.sendSnapshot / onSnapshotStream): the body reaches the sink
 * whole and in order, the MsgSnap is delivered only after the sink finished, a slow sink holds
 * the sender back (the source is pulled only as the receiver takes chunks), and failures on
 * either side end the stream as 'failed' with the source closed and the partial copy aborted.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, newMessage } from '@pontoon/raft/core';
import type { Message, SnapshotSink, SnapshotSource } from '@pontoon/raft';
import { cluster, waitFor } from './helpers.js';
import type { Node } from './helpers.js';

let open: Node[] = [];
afterEach(async () => {
  await Promise.all(open.map((n) => n.t.close()));
  open = [];
});

function snapMessage(): Message {
  return newMessage({
    type: MessageType.MsgSnap,
    from: 1,
    to: 2,
    term: 3,
    snapshot: { data: new Uint8Array([1, 2, 3]), metadata: { index: 100, term: 3, confState: { voters: [1, 2], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } },
  });
}

/** A source of `chunks` deterministic chunks of `chunkBytes`, recording how far it was pulled. */
class TestSource implements SnapshotSource {
  readonly position = { index: 100, term: 3 };
  readonly bytes: number;
  pulled = 0;
  closed = 0;
  readonly hash = createHash('sha256');
  constructor(
    private readonly count: number,
    private readonly chunkBytes: number,
    private readonly failAt = -1,
  ) {
    this.bytes = count * chunkBytes;
  }
  async *chunks(): AsyncIterable<Uint8Array> {
    for (let i = 0; i < this.count; i++) {
      if (i === this.failAt) throw new Error('disk read failed');
      const c = new Uint8Array(this.chunkBytes).map((_, k) => (i * 131 + k) & 0xff);
      this.hash.update(c);
      this.pulled++;
      yield c;
    }
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

class TestSink implements SnapshotSink {
  readonly hash = createHash('sha256');
  bytes = 0;
  finished = false;
  aborted = false;
  constructor(private readonly delayMs = 0) {}
  async write(chunk: Uint8Array): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }
  async finish(): Promise<void> {
    this.finished = true;
  }
  async abort(): Promise<void> {
    this.aborted = true;
  }
}

describe('streamed snapshots', () => {
  it('moves the body into the sink in order, then delivers the MsgSnap and reports finished', async () => {
    const [a, b] = await cluster(2, { chunkBytes: 16_384 });
    open.push(a!, b!);
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const sink = new TestSink();
    let deliveredAfterFinish: boolean | undefined;
    b!.t.onMessage((m) => {
      if (m.type === MessageType.MsgSnap) deliveredAfterFinish = sink.finished;
      b!.received.push(m);
    });
    b!.t.onSnapshotStream(async (m) => {
      expect(m.snapshot!.metadata.index).toBe(100);
      return sink;
    });
    // Chunks of 100,000 bytes: the transport cuts them into frames of 16 KiB.
    const source = new TestSource(40, 100_000);
    a!.t.sendSnapshot(snapMessage(), source);
    await waitFor(() => a!.snapshots.length === 1, 'snapshot status', 20_000);
    expect(a!.snapshots).toEqual([[2, 'finished']]);
    expect(sink.bytes).toBe(source.bytes);
    expect(sink.hash.digest('hex')).toBe(source.hash.digest('hex'));
    expect(deliveredAfterFinish).toBe(true);
    const got = b!.received.find((m) => m.type === MessageType.MsgSnap)!;
    expect([...got.snapshot!.data]).toEqual([1, 2, 3]);
    await waitFor(() => source.closed === 1, 'source closed');
  });

  it('pulls the source only as fast as a slow sink writes', async () => {
    const [a, b] = await cluster(2, { chunkBytes: 65_536 });
    open.push(a!, b!);
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const sink = new TestSink(2);
    b!.t.onSnapshotStream(async () => sink);
    const chunk = 1 << 20;
    const source = new TestSource(48, chunk);
    a!.t.sendSnapshot(snapMessage(), source);
    // Sampled while the stream runs: what was pulled but not yet written is bounded by the
    // receiver's window and the socket buffers, not by the 48 MiB body.
    let maxAhead = 0;
    while (a!.snapshots.length === 0) {
      maxAhead = Math.max(maxAhead, source.pulled * chunk - sink.bytes);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(a!.snapshots).toEqual([[2, 'finished']]);
    expect(sink.bytes).toBe(source.bytes);
    console.log(`streamed 48 MiB into a slow sink; at most ${(maxAhead / 2 ** 20).toFixed(1)} MiB pulled ahead of it`);
    expect(maxAhead).toBeLessThan(16 << 20);
  }, 60_000);

  it('reports failed, closes the source and aborts the sink when the source fails', async () => {
    const [a, b] = await cluster(2, { chunkBytes: 16_384 });
    open.push(a!, b!);
    await waitFor(() => a!.t.isConnected(2), 'connect');
    const sink = new TestSink();
    b!.t.onSnapshotStream(async () => sink);
    const source = new TestSource(20, 50_000, 5);
    a!.t.sendSnapshot(snapMessage(), source);
    await waitFor(() => a!.snapshots.length === 1, 'snapshot status');
    expect(a!.snapshots).toEqual([[2, 'failed']]);
    await waitFor(() => source.closed === 1, 'source closed');
    // The sender drops the connection with the half-sent stream; the receiver aborts its copy.
    await waitFor(() => sink.aborted, 'sink aborted');
    expect(b!.received.some((m) => m.type === MessageType.MsgSnap)).toBe(false);
  });

  it('reports failed when the receiver refuses the stream, and stays usable', async () => {
    const [a, b] = await cluster(2, { chunkBytes: 16_384 });
    open.push(a!, b!);
    await waitFor(() => a!.t.isConnected(2), 'connect');
    b!.t.onSnapshotStream(() => Promise.reject(new Error('no room')));
    const source = new TestSource(10, 50_000);
    a!.t.sendSnapshot(snapMessage(), source);
    await waitFor(() => a!.snapshots.length === 1, 'snapshot status');
    expect(a!.snapshots).toEqual([[2, 'failed']]);
    await waitFor(() => source.closed === 1, 'source closed');
    const sink = new TestSink();
    b!.t.onSnapshotStream(async () => sink);
    await waitFor(() => a!.t.isConnected(2), 'reconnect');
    const again = new TestSource(3, 50_000);
    a!.t.sendSnapshot(snapMessage(), again);
    await waitFor(() => a!.snapshots.length === 2, 'second snapshot status');
    expect(a!.snapshots[1]).toEqual([2, 'finished']);
    expect(sink.bytes).toBe(again.bytes);
  });
});
