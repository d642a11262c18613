/**
 * pontoon-kv's gRPC server: etcd 3.4's services on one KvMember, listening on one or more
 * client addresses. Each service lives in its own file; this one binds them, the limits etcd
 * sets on its gRPC server, and the lifecycle.
 */
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_MAX_REQUEST_BYTES, type KvMember } from '@pontoon/kv';
import { loadEtcdProtos } from '../etcd-protos.js';
import { Alarms } from './alarms.js';
import { authenticate, registerAuthStatus } from './auth-status.js';
import type { ServerContext } from './call-context.js';
import { type EtcdIds } from './etcd-ids.js';
import { kvService } from './kv-service.js';
import { leaseService } from './lease-service.js';
import { watchService } from './watch-service.js';
import { maintenanceService } from './maintenance-service.js';
import { clusterService } from './cluster-service.js';
import { healthService } from './health-service.js';
import { lockService } from './lock-service.js';
import { electionService } from './election-service.js';
import type { GrpcServerMetrics } from './grpc-metrics.js';
import { localLeaderProgress, type LeaderProgressSource } from './learner-readiness.js';
import { type ContactViewSource, localContactView } from './contact-view.js';

/** etcd's grpcOverheadBytes: room above --max-request-bytes for the rest of a message. */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** TLS on the client port: PEM key and certificate, and the CA that client certificates must chain to. */
export interface EtcdServerTls {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** Trusted CA for client certificates (--trusted-ca-file). */
  readonly ca?: Buffer;
  /** Require and verify client certificates (--client-cert-auth). */
  readonly clientCertAuth?: boolean;
}

export interface EtcdGrpcServerOptions {
  readonly member: KvMember;
  readonly ids: EtcdIds;
  /**
   * `host:port` addresses to listen on (port 0: any free port); none when every connection comes
   * through injectConnection().
   */
  readonly listen: string | readonly string[];
  readonly tls?: EtcdServerTls;
  /** etcd's --max-request-bytes (default 1.5 MiB). */
  readonly maxRequestBytes?: number;
  /** Counts calls and messages (etcd's grpc_server_* metrics). */
  readonly metrics?: GrpcServerMetrics;
  /**
   * How MemberPromote learns the leader's replication progress (etcd's learner readiness check).
   * Default: the member's own, so that on a member that does not lead MemberPromote answers
   * etcd's "not leader"; pontoon-kv's members ask the leader over the peer port.
   */
  readonly leaderProgress?: LeaderProgressSource;
  /**
   * etcd's --strict-reconfig-check (default true, as etcd's): refuse a membership change that
   * would leave too few started or connected members (reconfig-check.ts).
   */
  readonly strictReconfigCheck?: boolean;
  /**
   * Which members the strict check sees as up. Default: the member's own contact with its peers;
   * pontoon-kv's members ask the leader over the peer port (a follower hears only the leader).
   */
  readonly contactView?: ContactViewSource;
}

export interface EtcdGrpcServer {
  /** The bound `host:port` addresses, in the order of `listen`. */
  readonly addresses: readonly string[];
  /**
   * Serves gRPC on a connection accepted elsewhere (a client port that told HTTP/2 from
   * HTTP/1.1 and terminated TLS), in this process, with the limits above.
   */
  injectConnection(connection: Duplex): void;
  /** Stops accepting calls, ends open streams, and closes every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves etcd 3.4's gRPC API (KV, Watch, Lease, Cluster, Maintenance, Auth, Lock, Election,
 * grpc.health.v1) for `member`. Resolves once every address is bound.
 */
export async function startEtcdGrpcServer(options: EtcdGrpcServerOptions): Promise<EtcdGrpcServer> {
  const { member, ids } = options;
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const closing = new AbortController();
  // Every response header carries this member's etcd id; looking it up in the members table
  // (the replicated cluster metadata, read from SQLite) cost ~0.1 ms per response. A member's
  // etcd id never changes once recorded; until it is (a member added at runtime that has not
  // published yet), its Raft id stands in and the table is asked again.
  let ownEtcdId: bigint | undefined;
  const ctx: ServerContext = {
    member,
    ids,
    header: { clusterId: ids.clusterId, memberId: () => (ownEtcdId ??= recordedEtcdId(ids, member.id)) ?? BigInt(member.id) },
    alarms: new Alarms(member),
    maxRequestBytes,
    closed: closing.signal,
    leaderProgress: options.leaderProgress ?? localLeaderProgress(member),
    strictReconfigCheck: options.strictReconfigCheck ?? true,
    contactView: options.contactView ?? localContactView(member),
  };
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxRequestBytes + GRPC_OVERHEAD_BYTES,
    'grpc.max_send_message_length': 2 ** 31 - 1,
    // etcd's default --grpc-keepalive-min-time: clients may ping every 5 s.
    'grpc.http2.min_ping_interval_without_data_ms': 5000,
    ...(options.metrics === undefined ? {} : { interceptors: [options.metrics.interceptor] }),
  });
  const services = loadEtcdProtos().services;
  // As etcd: the services registered before its go-grpc-prometheus are listed from the start.
  if (options.metrics !== undefined) {
    for (const s of [services.KV, services.Watch, services.Lease, services.Cluster, services.Auth, services.Maintenance, services.Health]) {
      options.metrics.preRegister(s);
    }
  }
  server.addService(services.KV, kvService(ctx));
  server.addService(services.Watch, watchService(ctx));
  server.addService(services.Lease, leaseService(ctx));
  server.addService(services.Cluster, clusterService(ctx));
  server.addService(services.Maintenance, maintenanceService(ctx));
  // etcd 3.4's Auth service without users or roles. Authentication is never enabled, so
  // Authenticate answers what etcd answers then (clientv3 and Patroni, given credentials, go on
  // without a token when they see it); 3.5's AuthStatus says disabled; every other method
  // answers UNIMPLEMENTED (grpc-js's answer for a method without a handler).
  server.addService(services.Auth, { Authenticate: authenticate(ctx) });
  registerAuthStatus(server, ctx);
  server.addService(services.Lock, lockService(ctx));
  server.addService(services.Election, electionService(ctx));
  server.addService(services.Health, healthService(ctx));

  const credentials = options.tls === undefined
    ? grpc.ServerCredentials.createInsecure()
    : grpc.ServerCredentials.createSsl(
        options.tls.ca ?? null,
        [{ private_key: options.tls.key, cert_chain: options.tls.cert }],
        options.tls.clientCertAuth === true,
      );
  const listen = typeof options.listen === 'string' ? [options.listen] : [...options.listen];
  const addresses: string[] = [];
  try {
    for (const address of listen) {
      const port = await new Promise<number>((resolve, reject) => {
        server.bindAsync(address, credentials, (err, p) => (err === null ? resolve(p) : reject(err)));
      });
      addresses.push(address.replace(/:\d+$/, `:${port}`));
    }
  } catch (err) {
    server.forceShutdown();
    throw err;
  }
  // Plain: TLS, where there is any, ends at the port that accepted the connection.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  let closed: Promise<void> | undefined;
  return {
    addresses,
    injectConnection: (connection) => injector.injectConnection(connection),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        // Open streams (watch, keepalive, observe) never end on their own: end them now.
        server.forceShutdown();
        resolve();
      });
      return closed;
    },
  };
}

function recordedEtcdId(ids: EtcdIds, raftId: number): bigint | undefined {
  return ids.members().find((m) => m.raftId === raftId)?.id;
}
