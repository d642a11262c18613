/**
 * pontoon-kv: etcd 3.4's gRPC API, command line and errors on @pontoon/kv.
 */
export {
  CommandLineError,
  DataDirMismatchError,
  InvalidUrlError,
  MemberIdError,
} from './errors.js';
export {
  loadEtcdProtos,
  type EtcdGrpcObject,
  type EtcdProtos,
  type EtcdServiceDefinitions,
} from './etcd-protos.js';
export { PROTO_ENTRY_FILES, PROTO_ROOT } from './proto-files.js';
export { PROTO_LOADER_OPTIONS } from './proto-options.js';
export {
  ETCD_ERRORS,
  ETCD_WATCH_CANCEL_REASONS,
  EtcdError,
  etcdErrorOf,
  REQUIRE_LEADER_METADATA,
  type EtcdErrorName,
} from './etcd-errors.js';
export { parseEtcdUrl, parseEtcdUrlList, parseEtcdUrls, parseEtcdUrlsMap } from './etcd-urls.js';
export {
  computeAddedMemberId,
  computeClusterId,
  computeMemberId,
  formatMemberId,
  initialClusterIds,
  parseMemberId,
  type InitialClusterIds,
  type InitialMember,
} from './member-id.js';
// etcd 3.4's command line: server flags, ETCD_* variables, `snapshot restore|status`.
export { verifyBootstrap, type BootstrapFlags } from './cli/bootstrap-check.js';
export { parseCommandLine, type PontoonKvCommand } from './cli/command-line.js';
export { etcdEnvName, etcdFlag, ETCD_FLAGS, type EtcdFlagKind, type EtcdFlagRole, type EtcdFlagSpec } from './cli/etcd-flags.js';
export { helpText } from './cli/help-text.js';
export { parseEtcdArgs, type EtcdArgs, type FlagSource } from './cli/parse-etcd-args.js';
export { resolveServerConfig, type EtcdLogLevel, type EtcdServerConfig, type TlsFlags } from './cli/server-config.js';
export { parseSnapshotArgs, type SnapshotRestoreArgs, type SnapshotStatusArgs } from './cli/snapshot-args.js';
export { checkDataDirIdentity, type DataDirIdentity, type RestartFlags } from './data-dir-identity.js';
export {
  startEtcdGrpcServer,
  type EtcdGrpcServer,
  type EtcdGrpcServerOptions,
  type EtcdServerTls,
} from './server/etcd-grpc-server.js';
export { GrpcServerMetrics } from './server/grpc-metrics.js';
export {
  ReplicatedEtcdIds,
  StaticEtcdIds,
  etcdIdOf,
  raftIdOfMemberId,
  type EtcdIds,
  type EtcdMemberRecord,
} from './server/etcd-ids.js';
export { ETCD_VERSION } from './server/maintenance-service.js';
