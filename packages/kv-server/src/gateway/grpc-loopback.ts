/**
 * The gateway's way into the member's own gRPC server: an HTTP/2 session over an in-memory
 * connection handed to the server as a client port hands it a socket (injectConnection). etcd's
 * gateway dials its own client URL instead; in-process there is no port to dial, no TLS to
 * present a client certificate to, and nothing to listen on, while every call still passes
 * through the server as a client's would (its limits, metrics and errors).
 */
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import { Duplex } from 'node:stream';
import { status as GrpcStatus } from '@grpc/grpc-js';


/** One end of an in-memory connection: what is written to it is read from the other end. */
class PipeEnd extends Duplex {
  peer: PipeEnd | undefined;

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.peer?.push(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.peer?.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = undefined;
    if (peer !== undefined && !peer.destroyed) peer.destroy();
    callback(error);
  }
}

function pipePair(): [PipeEnd, PipeEnd] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** How a call ended: gRPC's status code and message. */
export interface CallStatus {
  readonly code: number;
  readonly details: string;
}

/**
 * One call. Events: `message` (each response message's bytes), `status` (once, last).
 */
export class LoopbackCall extends EventEmitter<{ message: [Buffer]; status: [CallStatus] }> {
  private pending: Buffer = Buffer.alloc(0);
  /** The status the server sent, reported once every message before it was. */
  private received: CallStatus | undefined;
  private cancelled = false;
  private finished = false;

  constructor(private readonly stream: http2.ClientHttp2Stream) {
    super();
    stream.on('response', (headers) => {
      // A trailers-only answer: the status comes with the headers.
      if (headers['grpc-status'] !== undefined) this.received = statusOf(headers);
    });
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('trailers', (trailers) => (this.received = statusOf(trailers)));
    stream.on('end', () => this.finish());
    stream.on('error', () => undefined);
    stream.on('close', () => this.finish());
  }

  /**
   * Sends one request message; false when the stream's buffer is full (wait for `whenDrained`
   * before sending more, or a client that floods a stream would fill memory).
   */
  send(message: Buffer): boolean {
    if (this.stream.destroyed || this.stream.writableEnded) return true;
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    return this.stream.write(Buffer.concat([prefix, message]));
  }

  /** Calls `resume` once the request messages sent so far have been taken (or the call ended). */
  whenDrained(resume: () => void): void {
    if (this.stream.destroyed) return resume();
    const done = (): void => {
      this.stream.off('drain', done);
      this.stream.off('close', done);
      resume();
    };
    this.stream.once('drain', done);
    this.stream.once('close', done);
  }

  /** Half-closes: no more request messages. */
  end(): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
  }

  /** Stops reading responses (the HTTP client is slow); HTTP/2 flow control holds the server back. */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  /** Cancels the call (the HTTP client went away). */
  cancel(): void {
    this.cancelled = true;
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + length) return;
      const message = this.pending.subarray(5, 5 + length);
      this.pending = this.pending.subarray(5 + length);
      this.emit('message', message);
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const status = this.received ?? (this.cancelled ? { code: GrpcStatus.CANCELLED, details: 'context canceled' } : { code: GrpcStatus.UNAVAILABLE, details: 'the call ended without a status' });
    this.emit('status', status);
  }
}

function statusOf(headers: http2.IncomingHttpHeaders): CallStatus {
  const code = Number(headers['grpc-status']);
  const raw = headers['grpc-message'];
  let details = typeof raw === 'string' ? raw : '';
  try {
    details = decodeURIComponent(details);
  } catch {
    // A message that is not percent-encoded as gRPC asks is shown as it came.
  }
  return { code: Number.isInteger(code) ? code : GrpcStatus.UNAVAILABLE, details };
}

/** Opens calls into a gRPC server that takes connections through `inject`. */
export class GrpcLoopback {
  private session: http2.ClientHttp2Session | undefined;
  private closed = false;

  constructor(private readonly inject: (connection: Duplex) => void) {}

  /** Starts a call of `path` (`/etcdserverpb.KV/Range`) with `metadata` as request headers. */
  open(path: string, metadata: Readonly<Record<string, string>>): LoopbackCall {
    const stream = this.connect().request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...metadata,
    });
    return new LoopbackCall(stream);
  }

  /** Closes the session; calls still open end as cancelled. */
  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  private connect(): http2.ClientHttp2Session {
    if (this.closed) throw new Error('the gateway is closed');
    const current = this.session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    const [client, server] = pipePair();
    this.inject(server);
    const session = http2.connect('http://localhost', { createConnection: () => client });
    session.on('error', () => undefined);
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    session.unref();
    this.session = session;
    return session;
  }
}
