/** etcd 3.4's command line: server flags, ETCD_* variables, `snapshot restore|status`. */
export { verifyBootstrap, type BootstrapFlags } from './bootstrap-check.js';
export { parseCommandLine, type PontoonKvCommand } from './command-line.js';
export { etcdEnvName, etcdFlag, ETCD_FLAGS, type EtcdFlagKind, type EtcdFlagRole, type EtcdFlagSpec } from './etcd-flags.js';
export { helpText } from './help-text.js';
export { parseEtcdArgs, type EtcdArgs, type FlagSource } from './parse-etcd-args.js';
export { resolveServerConfig, type EtcdLogLevel, type EtcdServerConfig, type TlsFlags } from './server-config.js';
export { parseSnapshotArgs, type SnapshotRestoreArgs, type SnapshotStatusArgs } from './snapshot-args.js';
