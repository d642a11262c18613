/**
 * The least a write handed to another thread can cost on top of the write itself: a request
 * posted to a worker that does nothing with it but answer, by the same means SqliteLogStore's
 * writer uses (a MessagePort for the request, a futex wake through shared memory each way; see
 * packages/storage-sqlite/src/writer-protocol.ts). The issue asks both for an fsync that never
 * runs on the main thread and for a single-entry append within 1.3x a main-thread commit: this
 * row says how much of that budget the first requirement spends before any byte is written.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';

/** The worker: takes every request queued, counts them as completed, wakes the main thread. */
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const control = new Int32Array(workerData.control);
const port = workerData.port;
for (;;) {
  const seen = Atomics.load(control, 0);
  let n = 0;
  let closing = false;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    if (m.message === 'close') closing = true;
    else n++;
  }
  if (n > 0) {
    Atomics.add(control, 1, n);
    Atomics.notify(control, 1);
  }
  if (closing) break;
  if (n === 0) Atomics.wait(control, 0, seen);
}
port.close();
`;

/** A worker thread that answers empty requests; `roundTrip()` is one request and its answer. */
export class ThreadRoundTrip {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly control: Int32Array;
  /** Requests posted so far; the worker's count of answered ones catches up with it. */
  private sent = 0;
  /** Shaped like a one-entry append request (128 B of entry, the hard state), so that it costs the same to post. */
  private readonly request = { kind: 'append', seq: 0, hardState: [1, 1, 0], firstIndex: 1, count: 1, entries: new Uint8Array(152), sync: true };

  constructor() {
    const control = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { control, port: port2 }, transferList: [port2] });
    this.port = port1;
    this.control = new Int32Array(control);
  }

  /** Requests the worker has answered so far. */
  get answered(): number {
    return Atomics.load(this.control, 1);
  }

  /** Posts one request and resolves when the worker has answered it (never blocks the event loop). */
  async roundTrip(): Promise<void> {
    const target = ++this.sent;
    this.request.seq = target;
    this.port.postMessage(this.request);
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    for (let done = Atomics.load(this.control, 1); done < target; done = Atomics.load(this.control, 1)) {
      const w = Atomics.waitAsync(this.control, 1, done);
      if (w.async) await w.value;
    }
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.worker.once('exit', r));
    this.port.postMessage('close');
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    await exited;
    this.port.close();
  }
}
