import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_ENTRY_FILES, PROTO_ROOT } from './proto-files.js';
import { PROTO_LOADER_OPTIONS } from './proto-options.js';
import type { ProtoGrpcType as HealthProto } from './proto-types/health.js';
import type { ProtoGrpcType as RpcProto } from './proto-types/rpc.js';
import type { ProtoGrpcType as ElectionProto } from './proto-types/v3election.js';
import type { ProtoGrpcType as LockProto } from './proto-types/v3lock.js';
import type { AuthDefinition } from './proto-types/etcdserverpb/Auth.js';
import type { ClusterDefinition } from './proto-types/etcdserverpb/Cluster.js';
import type { KVDefinition } from './proto-types/etcdserverpb/KV.js';
import type { LeaseDefinition } from './proto-types/etcdserverpb/Lease.js';
import type { MaintenanceDefinition } from './proto-types/etcdserverpb/Maintenance.js';
import type { WatchDefinition } from './proto-types/etcdserverpb/Watch.js';
import type { HealthDefinition } from './proto-types/grpc/health/v1/Health.js';
import type { ElectionDefinition } from './proto-types/v3electionpb/Election.js';
import type { LockDefinition } from './proto-types/v3lockpb/Lock.js';

/**
 * The gRPC object of every vendored etcd 3.4 package: `etcdserverpb`, `mvccpb`, `authpb`,
 * `v3lockpb`, `v3electionpb` and `grpc.health.v1`, each service a typed client constructor
 * with its `service` definition, each message a typed message definition.
 */
export type EtcdGrpcObject = RpcProto & LockProto & ElectionProto & HealthProto;

/** The service definitions a server registers with `grpc.Server.addService`, by service name. */
export interface EtcdServiceDefinitions {
  readonly KV: KVDefinition;
  readonly Watch: WatchDefinition;
  readonly Lease: LeaseDefinition;
  readonly Cluster: ClusterDefinition;
  readonly Maintenance: MaintenanceDefinition;
  readonly Auth: AuthDefinition;
  readonly Lock: LockDefinition;
  readonly Election: ElectionDefinition;
  readonly Health: HealthDefinition;
}

/** What loadEtcdProtos returns. */
export interface EtcdProtos {
  /** proto-loader's definition of every method and message (paths, serializers). */
  readonly packageDefinition: protoLoader.PackageDefinition;
  readonly grpcObject: EtcdGrpcObject;
  readonly services: EtcdServiceDefinitions;
}

let loaded: EtcdProtos | undefined;

/**
 * Loads etcd 3.4's .proto files (vendored in `proto/`) with PROTO_LOADER_OPTIONS: 64-bit
 * integers as decimal strings, field names as in the .proto, enums as names, defaults filled in.
 * Parsing takes a while, so the result is shared by every caller in the process.
 */
export function loadEtcdProtos(): EtcdProtos {
  if (loaded !== undefined) return loaded;
  const packageDefinition = protoLoader.loadSync([...PROTO_ENTRY_FILES], {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [PROTO_ROOT],
  });
  // The generated types describe exactly this definition (same files, same options; a test
  // regenerates them and compares), which is what makes this one cast sound.
  const grpcObject = grpc.loadPackageDefinition(packageDefinition) as unknown as EtcdGrpcObject;
  const services: EtcdServiceDefinitions = {
    KV: grpcObject.etcdserverpb.KV.service,
    Watch: grpcObject.etcdserverpb.Watch.service,
    Lease: grpcObject.etcdserverpb.Lease.service,
    Cluster: grpcObject.etcdserverpb.Cluster.service,
    Maintenance: grpcObject.etcdserverpb.Maintenance.service,
    Auth: grpcObject.etcdserverpb.Auth.service,
    Lock: grpcObject.v3lockpb.Lock.service,
    Election: grpcObject.v3electionpb.Election.service,
    Health: grpcObject.grpc.health.v1.Health.service,
  };
  loaded = { packageDefinition, grpcObject, services };
  return loaded;
}
