import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the vendored .proto files live: `proto/` at the package root, beside `src/` and `dist/`
 * (the published package ships it). They are etcd 3.4.23's own files (Debian's
 * golang-etcd-server-dev, identical to the upstream v3.4.23 tag) plus the files they import; see
 * `proto/README.md` for provenance and licenses.
 */
export const PROTO_ROOT: string = path.join(packageRoot(path.dirname(fileURLToPath(import.meta.url))), 'proto');

/** The package root seen from this module's directory: `src/` from source, `dist/src/` when built. */
function packageRoot(moduleDir: string): string {
  const parent = path.dirname(moduleDir);
  return path.basename(parent) === 'dist' ? path.dirname(parent) : parent;
}

/** The entry files, relative to PROTO_ROOT; their imports are resolved from PROTO_ROOT. */
export const PROTO_ENTRY_FILES: readonly string[] = [
  'etcd/etcdserver/etcdserverpb/rpc.proto',
  'etcd/etcdserver/api/v3lock/v3lockpb/v3lock.proto',
  'etcd/etcdserver/api/v3election/v3electionpb/v3election.proto',
  'grpc/health/v1/health.proto',
];
