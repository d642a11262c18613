/**
 * etcd 3.4's gRPC gateway: etcd's API as JSON over HTTP/1.1 on the client port
 * (`curl -X POST http://127.0.0.1:2379/v3/kv/range -d '{"key":"Zm9v"}'`), under `/v3/` and the
 * older `/v3beta/`, at the paths of the `google.api.http` options in etcd's .proto files. Tools
 * without a gRPC stack use it: shell scripts with curl, Patroni, APISIX, OpenStack's etcd3gw.
 *
 * As etcd's (grpc-gateway v1), it is a translator in front of the member's own gRPC server:
 * each request becomes a gRPC call through GrpcLoopback, so answers, errors and limits are the
 * server's. What it adds is etcd's framing:
 * - unary: the response message as JSON; an error as `{"error","message","code"}` with the HTTP
 *   status grpc-gateway maps the gRPC code to;
 * - streams (Watch, LeaseKeepAlive, Observe, Snapshot): one `{"result":...}` line per message,
 *   an error as a last `{"error":{"grpc_code",...}}` line. A streaming request body is a
 *   sequence of JSON values, each a message; its end half-closes the call, and a value that does
 *   not parse ends the sending as its end would (after the first: the first is an error).
 * Closing the HTTP connection cancels the call.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { GoJsonEofError, decodeNext, goJsonString } from './go-json.js';
import type { GoJsonValue } from './go-json.js';
import { GrpcLoopback } from './grpc-loopback.js';
import type { CallStatus, LoopbackCall } from './grpc-loopback.js';
import { ProtoJson } from './proto-json.js';

/** grpc-gateway v1's HTTPStatusFromCode. */
const HTTP_STATUS = [200, 408, 500, 400, 504, 404, 409, 403, 429, 412, 409, 400, 501, 500, 503, 500, 401] as const;

/** Go's http.StatusText for the statuses above. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  408: 'Request Timeout', 409: 'Conflict', 412: 'Precondition Failed', 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

const INVALID_ARGUMENT = GrpcStatus.INVALID_ARGUMENT;
const UNKNOWN = GrpcStatus.UNKNOWN;

function httpStatusOf(code: number): number {
  return HTTP_STATUS[code] ?? 500;
}

/** What the gateway needs of one method of etcd's services. */
interface Route {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestType: string;
  readonly responseType: string;
  readonly serialize: (message: Record<string, unknown>) => Buffer;
  readonly deserialize: (bytes: Buffer) => Record<string, unknown>;
}

interface MethodLike {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize: (message: unknown) => Buffer;
  responseDeserialize: (bytes: Buffer) => unknown;
  requestType: { type: { name: string } };
  responseType: { type: { name: string } };
  options?: Record<string, unknown>;
}

interface HttpRule {
  post?: string;
  additional_bindings?: HttpRule | HttpRule[];
}

function postPaths(rule: HttpRule | undefined): string[] {
  if (rule === undefined) return [];
  const more = rule.additional_bindings;
  const nested = more === undefined ? [] : Array.isArray(more) ? more : [more];
  return [...(rule.post === undefined ? [] : [rule.post]), ...nested.flatMap(postPaths)];
}

export interface GrpcGatewayOptions {
  /** The definition the gRPC server serves (loadEtcdProtos().packageDefinition). */
  readonly packageDefinition: PackageDefinition;
  /** Hands a connection to the member's gRPC server (EtcdGrpcServer.injectConnection). */
  readonly inject: (connection: Duplex) => void;
  /**
   * The member's --max-request-bytes: a body may hold a request of that size in base64 and
   * JSON, so bodies are refused past 4x it plus 1 MiB; below that the server's own limit answers.
   */
  readonly maxRequestBytes: number;
}

/** The gateway of one member: `handle` takes the requests under `/v3/` and `/v3beta/`. */
export class GrpcGateway {
  private readonly routes = new Map<string, Route>();
  private readonly json: ProtoJson;
  private readonly loopback: GrpcLoopback;
  private readonly maxBodyBytes: number;
  /** The streams being answered: each ends with etcd's last line when the member stops. */
  private readonly openStreams = new Set<() => Promise<void>>();

  constructor(options: GrpcGatewayOptions) {
    this.json = new ProtoJson(options.packageDefinition);
    this.loopback = new GrpcLoopback(options.inject);
    this.maxBodyBytes = 4 * options.maxRequestBytes + 1024 * 1024;
    for (const [serviceName, def] of Object.entries(options.packageDefinition)) {
      if ((def as { format?: string }).format !== undefined) continue;
      const pkg = serviceName.slice(0, serviceName.lastIndexOf('.'));
      for (const method of Object.values(def as Record<string, MethodLike>)) {
        const rule = method.options?.['(google.api.http)'] as HttpRule | undefined;
        for (const path of postPaths(rule)) {
          // Hash and HashKV share /v3/maintenance/hash; etcd's gateway serves the first, Hash.
          if (this.routes.has(path)) continue;
          this.routes.set(path, {
            path: method.path,
            requestStream: method.requestStream,
            responseStream: method.responseStream,
            requestType: `${pkg}.${method.requestType.type.name}`,
            responseType: `${pkg}.${method.responseType.type.name}`,
            serialize: (m) => method.requestSerialize(m),
            deserialize: (b) => method.responseDeserialize(b) as Record<string, unknown>,
          });
        }
      }
    }
  }

  /** The HTTP paths served, for tests and documentation. */
  get paths(): readonly string[] {
    return [...this.routes.keys()];
  }

  /** Answers `req` if its path is the gateway's (true), else leaves it (false). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    let apiPath: string;
    if (path.startsWith('/v3/')) apiPath = path;
    else if (path.startsWith('/v3beta/')) apiPath = `/v3/${path.slice('/v3beta/'.length)}`;
    else return false;
    const route = this.routes.get(apiPath);
    if (route === undefined) textError(res, 404);
    else if (req.method !== 'POST') textError(res, 405);
    else if (route.requestStream) this.bidi(route, req, res);
    else this.unaryOrServerStream(route, req, res);
    return true;
  }

  /**
   * Ends every stream being answered with the line etcd's gateway writes when its server goes
   * away (UNAVAILABLE, "transport is closing") and waits, up to a second, for those lines to be
   * flushed; then ends the in-process session. Call it before the client ports close.
   */
  async close(): Promise<void> {
    const flushed = [...this.openStreams].map((end) => end());
    this.openStreams.clear();
    await Promise.race([Promise.all(flushed), new Promise((r) => setTimeout(r, 1000).unref())]);
    this.loopback.close();
  }

  /** Opens the call, or answers the error (metadata the HTTP/2 side refuses). */
  private open(route: Route, req: http.IncomingMessage, res: http.ServerResponse): LoopbackCall | undefined {
    try {
      const call = this.loopback.open(route.path, metadataOf(req));
      res.once('close', () => call.cancel());
      return call;
    } catch (err) {
      localError(res, 400, INVALID_ARGUMENT, err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  private unaryOrServerStream(route: Route, req: http.IncomingMessage, res: http.ServerResponse): void {
    void readBody(req, this.maxBodyBytes).then((body) => {
      if (body === 'aborted') return;
      if (body === 'too large') {
        localError(res, 400, INVALID_ARGUMENT, `request body larger than ${this.maxBodyBytes} bytes`);
        return;
      }
      let bytes: Buffer;
      try {
        const parsed = decodeNext(body, 0);
        bytes = route.serialize(parsed === undefined ? {} : this.json.toMessage(route.requestType, parsed.value));
      } catch (err) {
        localError(res, 400, INVALID_ARGUMENT, err instanceof Error ? err.message : String(err));
        return;
      }
      const call = this.open(route, req, res);
      if (call === undefined) return;
      call.send(bytes);
      call.end();
      if (route.responseStream) this.forwardStream(route, call, res);
      else this.forwardUnary(route, call, res);
    });
  }

  private bidi(route: Route, req: http.IncomingMessage, res: http.ServerResponse): void {
    const call = this.open(route, req, res);
    if (call === undefined) return;
    let buffer: Buffer = Buffer.alloc(0);
    let sent = 0;
    let sending = true;
    let failed = false;
    let ended = false;
    const stopSending = (): void => {
      sending = false;
      req.resume();
      call.end();
    };
    const pump = (final: boolean): void => {
      while (sending) {
        let next: { value: GoJsonValue; end: number } | undefined;
        let message: Buffer;
        try {
          next = decodeNext(buffer, 0);
          // At the top a number ends where the input does; more may follow.
          if (next !== undefined && !final && next.value.kind === 'number' && next.end === buffer.length) return;
          if (next === undefined) {
            if (final) stopSending();
            return;
          }
          message = route.serialize(this.json.toMessage(route.requestType, next.value));
        } catch (err) {
          if (err instanceof GoJsonEofError && !final) {
            if (buffer.length > this.maxBodyBytes) return fail(new Error(`request message larger than ${this.maxBodyBytes} bytes`));
            return;
          }
          return fail(err);
        }
        buffer = buffer.subarray(next.end);
        sent++;
        if (!call.send(message)) {
          // The server is not taking requests as fast as they come: read no more until it does.
          req.pause();
          call.whenDrained(() => {
            req.resume();
            pump(ended);
          });
          return;
        }
      }
    };
    const fail = (err: unknown): void => {
      // The first message failing is the request's error; a later one only ends the sending.
      if (sent === 0) {
        failed = true;
        sending = false;
        call.cancel();
        localError(res, httpStatusOf(UNKNOWN), UNKNOWN, err instanceof Error ? err.message : String(err));
      } else {
        stopSending();
      }
    };
    req.on('data', (chunk: Buffer) => {
      if (!sending) return;
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      pump(false);
    });
    req.on('end', () => {
      ended = true;
      pump(true);
    });
    req.on('error', () => call.cancel());
    this.forwardStream(route, call, res, () => failed);
  }

  private forwardUnary(route: Route, call: LoopbackCall, res: http.ServerResponse): void {
    let response: Buffer | undefined;
    call.on('message', (m) => (response ??= m));
    call.once('status', (status) => {
      if (res.writableEnded || res.destroyed) return;
      if (status.code !== 0 || response === undefined) {
        callError(res, status.code === 0 ? { code: UNKNOWN, details: 'empty response' } : status);
        return;
      }
      let body: string;
      try {
        body = this.json.fromMessage(route.responseType, route.deserialize(response));
      } catch (err) {
        // Only a server answer the gateway cannot read lands here: an error for this request alone.
        callError(res, { code: GrpcStatus.INTERNAL, details: err instanceof Error ? err.message : String(err) });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Grpc-Metadata-Content-Type': 'application/grpc', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  }

  private forwardStream(route: Route, call: LoopbackCall, res: http.ServerResponse, answered: () => boolean = () => false): void {
    const head = (status: number): void => {
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json', 'Grpc-Metadata-Content-Type': 'application/grpc', 'Transfer-Encoding': 'chunked' });
    };
    const endWith = (status: CallStatus): void => {
      this.openStreams.delete(shutdown);
      if (answered() || res.writableEnded || res.destroyed) return;
      if (status.code === 0) {
        head(200);
        res.end();
        return;
      }
      head(httpStatusOf(status.code));
      res.end(streamErrorChunk(status));
    };
    const shutdown = (): Promise<void> =>
      new Promise((resolve) => {
        res.once('close', resolve);
        res.once('finish', resolve);
        endWith({ code: GrpcStatus.UNAVAILABLE, details: 'transport is closing' });
        if (res.writableFinished || res.destroyed) resolve();
      });
    this.openStreams.add(shutdown);
    res.once('close', () => this.openStreams.delete(shutdown));
    call.on('message', (m) => {
      if (answered() || res.writableEnded || res.destroyed) return;
      let line: string;
      try {
        line = `{"result":${this.json.fromMessage(route.responseType, route.deserialize(m))}}\n`;
      } catch (err) {
        call.cancel();
        endWith({ code: GrpcStatus.INTERNAL, details: err instanceof Error ? err.message : String(err) });
        return;
      }
      head(200);
      // A slow reader holds the call back (HTTP/2 flow control reaches the server), as a slow
      // gRPC client would.
      if (!res.write(line)) {
        call.pause();
        res.once('drain', () => call.resume());
      }
    });
    call.once('status', endWith);
  }
}

/** The request headers grpc-gateway passes on as gRPC metadata. */
function metadataOf(req: http.IncomingMessage): Record<string, string> {
  const md: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (name === 'authorization' || name === 'grpc-timeout') md[name] = text;
    else if (name.startsWith('grpc-metadata-') && name.length > 'grpc-metadata-'.length) md[name.slice('grpc-metadata-'.length)] = text;
  }
  return md;
}

/** The whole body; past `max` bytes the rest is read and dropped. */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | 'too large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? 'too large' : Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}

/** grpc-gateway's error body (runtime.DefaultHTTPError). */
function errorBody(code: number, message: string): string {
  const m = goJsonString(message);
  return `{"error":${m},"message":${m},"code":${code}}`;
}

/** An error found before any call: no gRPC trailers to speak of. */
function localError(res: http.ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent || res.writableEnded) return;
  const body = errorBody(code, message);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A call's error, with the trailer etcd's gateway sends after it. */
function callError(res: http.ServerResponse, status: CallStatus): void {
  res.writeHead(httpStatusOf(status.code), { 'Content-Type': 'application/json', Trailer: 'Grpc-Trailer-Content-Type' });
  res.write(errorBody(status.code, status.details));
  res.addTrailers({ 'Grpc-Trailer-Content-Type': 'application/grpc' });
  res.end();
}

/** grpc-gateway's last line of a failed stream (no newline after it, as there). */
function streamErrorChunk(status: CallStatus): string {
  const http = httpStatusOf(status.code);
  return `{"error":{"grpc_code":${status.code},"http_code":${http},"message":${goJsonString(status.details)},"http_status":${goJsonString(STATUS_TEXT[http] ?? '')}}}`;
}

/** Go's http.Error. */
function textError(res: http.ServerResponse, status: 404 | 405): void {
  const body = `${status === 404 ? 'Not Found' : 'Method Not Allowed'}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
