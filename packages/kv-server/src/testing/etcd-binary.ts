import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EtcdNotInstalledError } from '../errors.js';

/** The reference binaries: `etcd` (etcd-server) and `etcdctl` (etcd-client). */
export type EtcdBinaryName = 'etcd' | 'etcdctl';

/** Found binaries by name and override: a version check per test file is enough. */
const cache = new Map<string, string>();

/**
 * The path of a reference etcd 3.4 binary: `$PONTOON_ETCD_BIN` / `$PONTOON_ETCDCTL_BIN`, else
 * the first on PATH, else /usr/bin. Throws EtcdNotInstalledError (with how to install it) when
 * the binary is missing or is not 3.4: a differential test must fail loudly, never skip.
 */
export function etcdBinary(name: EtcdBinaryName): string {
  const override = process.env[`PONTOON_${name.toUpperCase()}_BIN`];
  const key = `${name}\0${override ?? ''}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const candidates =
    override !== undefined && override !== ''
      ? [override]
      : [...(process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d !== ''), '/usr/bin'].map((d) =>
          path.join(d, name),
        );
  const found = candidates.find((p) => isExecutable(p));
  if (found === undefined) throw new EtcdNotInstalledError(name, `no ${name} found (looked in ${candidates.join(', ')})`);
  const version = versionOf(name, found);
  if (!/^3\.4\./.test(version)) {
    throw new EtcdNotInstalledError(name, `${found} is version ${version}, the reference is 3.4`);
  }
  cache.set(key, found);
  return found;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function versionOf(name: EtcdBinaryName, binary: string): string {
  // etcd prints "etcd Version: 3.4.23"; etcdctl (API 3) prints "etcdctl version: 3.4.23".
  const out = execFileSync(binary, name === 'etcd' ? ['--version'] : ['version'], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
    timeout: 10_000,
  });
  const m = /version:\s*(\d+\.\d+\.\d+)/i.exec(out);
  return m?.[1] ?? `unknown (${out.trim().split('\n')[0] ?? ''})`;
}
