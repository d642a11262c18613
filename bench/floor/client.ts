/**
 * The replicator's client process: a closed loop keeping a fixed number of entries in flight to
 * the leader over one connection. Each acknowledged entry is replaced by a new one; the
 * replacements of one turn of the event loop go out in one write (clients may batch over one
 * connection). The latency of an entry is from the write that carried it to the read of its
 * acknowledgement.
 *
 *   client.ts <leader port>   (driven over IPC by floor.ts)
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { SampleBuffer } from '../lib/histogram.js';
import { FrameReader, repeatedFrames } from '../lib/length-prefixed-frames.js';
import type { FromClient, ToClient } from './wire.js';

const send = (m: FromClient): void => void process.send!(m);
process.on('disconnect', () => process.exit(0));

/** A ring of the send times of the entries in flight, oldest first (acks come in order). */
const RING = 1 << 16;
const sentAt = new Float64Array(RING);
let head = 0;
let tail = 0;

const socket = net.connect({ host: '127.0.0.1', port: Number(process.argv[2]) });
socket.setNoDelay(true);
socket.once('connect', () => send({ kind: 'connected' }));

interface Run {
  window: number;
  frames: Buffer;
  frameBytes: number;
  recording: boolean;
  stopping: boolean;
  commits: number;
  samples: SampleBuffer;
  startedAt: number;
  endedAt: number;
  done: () => void;
}
let run: Run | undefined;
let topUpScheduled = false;

function inFlight(): number {
  return (tail - head + RING) % RING;
}

function topUp(): void {
  topUpScheduled = false;
  const r = run;
  if (r === undefined || r.stopping) return;
  let want = r.window - inFlight();
  if (want <= 0) return;
  const now = performance.now();
  while (want > 0) {
    const n = Math.min(want, r.frames.length / r.frameBytes);
    socket.write(r.frames.subarray(0, n * r.frameBytes));
    for (let i = 0; i < n; i++) {
      sentAt[tail] = now;
      tail = (tail + 1) % RING;
    }
    want -= n;
  }
}

const reader = new FrameReader((body) => {
  const r = run;
  if (r === undefined) throw new Error('an acknowledgement with no run in progress');
  const now = performance.now();
  const count = body.readUInt32BE(0);
  for (let i = 0; i < count; i++) {
    if (head === tail) throw new Error('more entries acknowledged than sent');
    if (r.recording) r.samples.push(now - sentAt[head]!);
    head = (head + 1) % RING;
  }
  if (r.recording) r.commits += count;
  if (r.stopping && head === tail) r.done();
  else if (!topUpScheduled) {
    topUpScheduled = true;
    setImmediate(topUp);
  }
});
socket.on('data', (c: Buffer) => reader.push(c));

process.on('message', (m: ToClient) => {
  if (m.kind !== 'run') return;
  if (m.inFlight > RING) throw new Error(`at most ${RING} in flight`);
  const r: Run = {
    window: m.inFlight,
    frames: repeatedFrames(Math.min(m.inFlight, 256), m.payloadBytes),
    frameBytes: 4 + m.payloadBytes,
    recording: false,
    stopping: false,
    commits: 0,
    samples: new SampleBuffer(),
    startedAt: 0,
    endedAt: 0,
    done: () => {
      run = undefined;
      send({
        kind: 'result',
        commits: r.commits,
        elapsedMs: r.endedAt - r.startedAt,
        histogram: encodeIntoCompressedBase64(r.samples.toHistogram()),
      });
    },
  };
  run = r;
  setTimeout(() => {
    r.recording = true;
    r.startedAt = performance.now();
    setTimeout(() => {
      r.recording = false;
      r.stopping = true;
      r.endedAt = performance.now();
      if (head === tail) r.done();
    }, m.durationMs);
  }, m.warmupMs);
  topUp();
});
