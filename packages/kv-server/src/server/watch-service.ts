/**
 * etcd's Watch service (v3rpc/watch.go): one bidirectional stream carries many watches. A create
 * is answered `created` (with the client's watch id, or the lowest free one from 0 as etcd's
 * watch stream picks it) before its events; a cancel is answered `canceled`; a progress request
 * is answered with watch id -1 and the current revision (etcd 3.4); a start revision that was
 * compacted ends that watch with `canceled` and `compact_revision`. With `fragment`, a response
 * larger than --max-request-bytes is split into several, all but the last marked `fragment`.
 */
import type * as grpc from '@grpc/grpc-js';
import type { WatchEvent, WatchResponse, Watcher } from '@pontoon/kv';
import { ETCD_WATCH_CANCEL_REASONS } from '../etcd-errors.js';
import { loadEtcdProtos } from '../etcd-protos.js';
import type { WatchHandlers } from '../proto-types/etcdserverpb/Watch.js';
import type { WatchCreateRequest__Output } from '../proto-types/etcdserverpb/WatchCreateRequest.js';
import type { WatchRequest__Output } from '../proto-types/etcdserverpb/WatchRequest.js';
import type { WatchResponse as WireWatchResponse } from '../proto-types/etcdserverpb/WatchResponse.js';
import type { Event as WireEvent } from '../proto-types/mvccpb/Event.js';
import { type ServerContext, streamAllowed } from './call-context.js';
import { toGrpcStatus } from './grpc-status.js';
import { int, wireHeader, wireKeyValue } from './wire.js';

type WatchStream = grpc.ServerDuplexStream<WatchRequest__Output, WireWatchResponse>;

export function watchService(ctx: ServerContext): WatchHandlers {
  return { Watch: (call) => new ServerWatchStream(ctx, call).start() };
}

class ServerWatchStream {
  /** The watches of this stream, by the watch id the client knows. */
  private readonly watches = new Map<number, { watcher: Watcher; fragment: boolean }>();
  private closed = false;

  constructor(
    private readonly ctx: ServerContext,
    private readonly call: WatchStream,
  ) {}

  start(): void {
    if (!streamAllowed(this.ctx, 'Watch', this.call)) return;
    const stop = (): void => this.close();
    this.ctx.closed.addEventListener('abort', stop, { once: true });
    this.call.once('cancelled', stop);
    this.call.once('error', stop);
    this.call.once('close', stop);
    // etcd keeps serving the watches of a stream whose client half-closed; the stream ends
    // when the client cancels it.
    this.call.on('data', (request: WatchRequest__Output) => {
      try {
        this.handle(request);
      } catch (err) {
        this.fail(err);
      }
    });
  }

  private handle(request: WatchRequest__Output): void {
    switch (request.request_union) {
      case 'create_request':
        this.create(request.create_request!);
        return;
      case 'cancel_request': {
        const id = int('watch.cancel.watch_id', request.cancel_request!.watch_id);
        const w = this.watches.get(id);
        if (w === undefined) return;
        this.watches.delete(id);
        this.ctx.member.cancelWatch(w.watcher.id);
        this.send({ header: this.header(this.ctx.member.revision), watch_id: id, canceled: true });
        return;
      }
      case 'progress_request':
        this.send({ header: this.header(this.ctx.member.revision), watch_id: -1 });
        return;
      default:
        // etcd ignores a request with no union member set.
        return;
    }
  }

  private create(c: WatchCreateRequest__Output): void {
    const rev = this.ctx.member.revision;
    // etcd: an empty range end is the key alone, "\0" is every key from `key` on.
    const rangeEnd = c.range_end.length === 0 ? undefined : c.range_end;
    const key = c.key.length === 0 ? Buffer.of(0) : c.key;
    if (rangeEnd !== undefined && !(rangeEnd.length === 1 && rangeEnd[0] === 0) && Buffer.compare(rangeEnd, key) <= 0) {
      this.send({ header: this.header(rev), watch_id: -1, created: true, canceled: true, cancel_reason: ETCD_WATCH_CANCEL_REASONS.EmptyWatcherRange });
      return;
    }
    // etcd's watch stream checks the range before the id.
    let id = int('watch.create.watch_id', c.watch_id);
    if (id === 0) {
      // etcd's AutoWatchID is 0: the lowest id not in use on this stream.
      id = 0;
      while (this.watches.has(id)) id++;
    } else if (this.watches.has(id)) {
      this.send({
        header: this.header(rev),
        watch_id: -1,
        created: true,
        canceled: true,
        cancel_reason: ETCD_WATCH_CANCEL_REASONS.DuplicateWatchId,
      });
      return;
    }
    let watcher: Watcher;
    try {
      // etcd: an empty key is "\0", the smallest key.
      watcher = this.ctx.member.watch(key, {
        ...(rangeEnd === undefined ? {} : { rangeEnd }),
        startRevision: int('watch.create.start_revision', c.start_revision),
        prevKv: c.prev_kv,
        progressNotify: c.progress_notify,
        filters: { noPut: c.filters.includes('NOPUT'), noDelete: c.filters.includes('NODELETE') },
      });
    } catch (err) {
      const status = toGrpcStatus(err);
      this.send({ header: this.header(rev), watch_id: -1, created: true, canceled: true, cancel_reason: status.details });
      return;
    }
    this.watches.set(id, { watcher, fragment: c.fragment });
    this.send({ header: this.header(rev), watch_id: id, created: true });
    void this.pump(id, watcher, c.fragment);
  }

  private async pump(id: number, watcher: Watcher, fragment: boolean): Promise<void> {
    try {
      for await (const resp of watcher) {
        if (this.closed) return;
        this.deliver(id, resp, fragment);
        if (resp.canceled) {
          this.watches.delete(id);
          return;
        }
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private deliver(id: number, resp: WatchResponse, fragment: boolean): void {
    const compacted = resp.compactRevision !== 0;
    const wire: WireWatchResponse = {
      // etcd's compaction notice carries no revision of its own.
      header: this.header(compacted ? 0 : resp.revision),
      watch_id: id,
      events: resp.events.map(wireEvent),
      compact_revision: resp.compactRevision,
      canceled: compacted || resp.canceled,
    };
    if (!fragment) {
      this.send(wire);
      return;
    }
    for (const part of fragments(wire, this.ctx.maxRequestBytes)) this.send(part);
  }

  private header(revision: number): WireWatchResponse['header'] {
    return wireHeader(this.ctx.header, { revision, raftTerm: this.ctx.member.raft.term });
  }

  private send(resp: WireWatchResponse): void {
    if (!this.closed) this.call.write(resp);
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.call.emit('error', toGrpcStatus(err));
    this.close();
  }

  /** Cancels every watch of the stream: nothing of it outlives the connection. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { watcher } of this.watches.values()) this.ctx.member.cancelWatch(watcher.id);
    this.watches.clear();
  }
}

function wireEvent(e: WatchEvent): WireEvent {
  return {
    type: e.type === 'put' ? 'PUT' : 'DELETE',
    kv: wireKeyValue(e.kv),
    ...(e.prevKv === undefined ? {} : { prev_kv: wireKeyValue(e.prevKv) }),
  };
}

/** etcd's sendFragments: events packed until the next would reach the limit; at least one each. */
export function fragments(resp: WireWatchResponse, maxBytes: number): WireWatchResponse[] {
  const serialize = loadEtcdProtos().services.Watch.Watch.responseSerialize;
  const events = resp.events ?? [];
  if (events.length < 2 || serialize(resp).length < maxBytes) return [resp];
  const base = serialize({ ...resp, events: [], fragment: true }).length;
  const sizes = events.map((ev) => serialize({ events: [ev] }).length);
  const out: WireWatchResponse[] = [];
  let i = 0;
  while (i < events.length) {
    let size = base + sizes[i]!;
    let j = i + 1;
    while (j < events.length && size + sizes[j]! < maxBytes) size += sizes[j++]!;
    out.push({ ...resp, events: events.slice(i, j), fragment: j < events.length });
    i = j;
  }
  return out;
}
