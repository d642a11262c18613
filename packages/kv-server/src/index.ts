/**
 * pontoon-kv: etcd 3.4's gRPC API, command line and errors on @pontoon/kv.
 */
export { CommandLineError, EtcdNotInstalledError, EtcdStartError } from './errors.js';
export {
  loadEtcdProtos,
  type EtcdGrpcObject,
  type EtcdProtos,
  type EtcdServiceDefinitions,
} from './etcd-protos.js';
export { PROTO_ENTRY_FILES, PROTO_ROOT } from './proto-files.js';
export { PROTO_LOADER_OPTIONS } from './proto-options.js';
