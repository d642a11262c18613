/**
 * Regenerates `src/proto-types/` from the vendored .proto files with @grpc/proto-loader's
 * generator and the loader's own options, so the types describe what the loader decodes.
 * Usage: `pnpm gen:proto` in packages/kv-server, or `generateProtoTypes(outDir)` from a test.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTO_ENTRY_FILES, PROTO_ROOT } from '../src/proto-files.js';
import { PROTO_GEN_TYPES_FLAGS } from '../src/proto-options.js';

const require = createRequire(import.meta.url);

/** Writes the generated types for every entry file into `outDir` (emptied first). */
export function generateProtoTypes(outDir: string): void {
  const generator = path.join(
    path.dirname(require.resolve('@grpc/proto-loader/package.json')),
    'build/bin/proto-loader-gen-types.js',
  );
  fs.rmSync(outDir, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      generator,
      ...PROTO_GEN_TYPES_FLAGS,
      '--grpcLib=@grpc/grpc-js',
      '--importFileExtension=.js',
      '--includeDirs=.',
      `--outDir=${path.resolve(outDir)}`,
      ...PROTO_ENTRY_FILES,
    ],
    // Relative paths, so the generated files name `etcd/...proto`, not this machine's checkout.
    { cwd: PROTO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  generateProtoTypes(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/proto-types'));
}
