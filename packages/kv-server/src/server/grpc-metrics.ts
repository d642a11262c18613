/**
 * The gRPC server's Prometheus counters as etcd exposes them (go-grpc-prometheus, which etcd
 * installs on its gRPC server): `grpc_server_started_total`, `grpc_server_handled_total`,
 * `grpc_server_msg_received_total` and `grpc_server_msg_sent_total`, labelled `grpc_type`
 * (unary, client_stream, server_stream, bidi_stream), `grpc_service` (`etcdserverpb.KV`),
 * `grpc_method` (`Range`) and, for handled calls, `grpc_code` (Go's code names: `OK`,
 * `OutOfRange`, ...). As etcd does, every method of the services registered before the counters
 * (KV, Watch, Lease, Cluster, Auth, Maintenance, Health) is listed at 0 from the start; the
 * others (Lock, Election) appear once called.
 */
import * as grpc from '@grpc/grpc-js';
import { Counter, type Registry } from 'prom-client';

/** Go's names of the gRPC status codes (codes.Code.String()), by code. */
const CODE_NAMES: readonly string[] = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists',
  'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange',
  'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];

/**
 * How etcd's handlers end a call whose client went away: with the context's Canceled, except
 * LeaseKeepAlive, which turns it into "no leader" (Unavailable) and is counted so.
 */
const CODE_WHEN_CLIENT_LEAVES: ReadonlyMap<string, number> = new Map([['/etcdserverpb.Lease/LeaseKeepAlive', grpc.status.UNAVAILABLE]]);

type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** What a method is, as grpc-js describes it. */
interface MethodShape {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** The counters of one method, resolved once. */
interface MethodCounters {
  readonly labels: { grpc_method: string; grpc_service: string; grpc_type: GrpcType };
  readonly started: Counter.Internal;
  readonly received: Counter.Internal;
  readonly sent: Counter.Internal;
  readonly handled: Array<Counter.Internal | undefined>;
  readonly codeWhenClientLeaves: number;
}

/** The counters, and the grpc-js interceptor that feeds them. */
export class GrpcServerMetrics {
  private readonly started: Counter<'grpc_method' | 'grpc_service' | 'grpc_type'>;
  private readonly handled: Counter<'grpc_code' | 'grpc_method' | 'grpc_service' | 'grpc_type'>;
  private readonly received: Counter<'grpc_method' | 'grpc_service' | 'grpc_type'>;
  private readonly sent: Counter<'grpc_method' | 'grpc_service' | 'grpc_type'>;
  private readonly methods = new Map<string, MethodCounters>();

  constructor(registry: Registry) {
    const registers = [registry];
    // Label names in Go's exposition order (sorted), so the lines read as etcd's do.
    const labelNames = ['grpc_method', 'grpc_service', 'grpc_type'] as const;
    this.started = new Counter({ name: 'grpc_server_started_total', help: 'Total number of RPCs started on the server.', labelNames, registers });
    this.handled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: ['grpc_code', ...labelNames],
      registers,
    });
    this.received = new Counter({ name: 'grpc_server_msg_received_total', help: 'Total number of RPC stream messages received on the server.', labelNames, registers });
    this.sent = new Counter({ name: 'grpc_server_msg_sent_total', help: 'Total number of gRPC stream messages sent by the server.', labelNames, registers });
  }

  /** Lists every method of `service` at 0, every code included, as go-grpc-prometheus's Register does. */
  preRegister(service: grpc.ServiceDefinition): void {
    for (const method of Object.values(service)) {
      const counters = this.countersOf(method);
      // prom-client lists a series once it has a value: add 0.
      for (const c of [counters.started, counters.received, counters.sent]) c.inc(0);
      for (let code = 0; code < CODE_NAMES.length; code++) this.handledOf(counters, code).inc(0);
    }
  }

  /** The interceptor to give grpc.Server (its `interceptors` option). */
  readonly interceptor: grpc.ServerInterceptor = (method, call) => {
    const counters = this.countersOf(method);
    counters.started.inc();
    let done = false;
    const handle = (code: number): void => {
      if (done) return;
      done = true;
      this.handledOf(counters, code).inc();
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMessage: (message, nextMessage) => {
            counters.received.inc();
            nextMessage(message);
          },
          // A call the client gave up on ends without a status from the handler.
          onCancel: () => handle(counters.codeWhenClientLeaves),
        }),
      sendMessage: (message, next) => {
        counters.sent.inc();
        next(message);
      },
      sendStatus: (status, next) => {
        handle(status.code ?? grpc.status.UNKNOWN);
        next(status);
      },
    });
  };

  private countersOf(method: MethodShape): MethodCounters {
    let counters = this.methods.get(method.path);
    if (counters === undefined) {
      const slash = method.path.lastIndexOf('/');
      const labels = {
        grpc_method: method.path.slice(slash + 1),
        grpc_service: method.path.slice(1, slash),
        grpc_type: grpcType(method),
      };
      counters = {
        labels,
        started: this.started.labels(labels),
        received: this.received.labels(labels),
        sent: this.sent.labels(labels),
        handled: [],
        codeWhenClientLeaves: CODE_WHEN_CLIENT_LEAVES.get(method.path) ?? grpc.status.CANCELLED,
      };
      this.methods.set(method.path, counters);
    }
    return counters;
  }

  private handledOf(counters: MethodCounters, code: number): Counter.Internal {
    let counter = counters.handled[code];
    if (counter === undefined) {
      counter = this.handled.labels({ grpc_code: CODE_NAMES[code] ?? 'Unknown', ...counters.labels });
      counters.handled[code] = counter;
    }
    return counter;
  }
}

function grpcType(m: MethodShape): GrpcType {
  if (m.requestStream) return m.responseStream ? 'bidi_stream' : 'client_stream';
  return m.responseStream ? 'server_stream' : 'unary';
}
