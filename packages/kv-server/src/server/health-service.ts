/**
 * grpc.health.v1 as etcd 3.4 registers it: the server (service "") is SERVING while it runs;
 * Watch sends the status once and holds the stream until the client or the server ends it.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { HealthHandlers } from '../proto-types/grpc/health/v1/Health.js';
import type { ServerContext } from './call-context.js';

const KNOWN = new Set(['', 'etcdserverpb.KV', 'etcdserverpb.Watch', 'etcdserverpb.Lease', 'etcdserverpb.Cluster', 'etcdserverpb.Maintenance']);

export function healthService(ctx: ServerContext): HealthHandlers {
  return {
    // grpc-go's health server answers an unknown service NOT_FOUND "unknown service".
    Check: (call, callback) => {
      if (KNOWN.has(call.request.service)) callback(null, { status: 'SERVING' });
      else callback({ code: GrpcStatus.NOT_FOUND, details: 'unknown service' });
    },
    Watch: (call) => {
      call.write({ status: KNOWN.has(call.request.service) ? 'SERVING' : 'SERVICE_UNKNOWN' });
      const end = (): void => {
        ctx.closed.removeEventListener('abort', end);
        call.end();
      };
      ctx.closed.addEventListener('abort', end, { once: true });
      call.once('cancelled', () => ctx.closed.removeEventListener('abort', end));
    },
  };
}
