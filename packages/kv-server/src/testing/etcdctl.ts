import { execFile } from 'node:child_process';
import { etcdBinary } from './etcd-binary.js';

/** What one etcdctl run printed and how it ended. */
export interface EtcdctlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the reference etcdctl (API v3) with `--endpoints` and `args`, bounded by `timeoutMs`
 * (default 20 s), in `cwd` if given. Resolves with the exit code and output whatever the exit code: a test that
 * expects an error asserts on it.
 */
export function runEtcdctl(
  endpoints: readonly string[],
  args: readonly string[],
  options: { timeoutMs?: number | undefined; env?: Record<string, string> | undefined; cwd?: string | undefined } = {},
): Promise<EtcdctlResult> {
  const binary = etcdBinary('etcdctl');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCDCTL')));
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      [`--endpoints=${endpoints.join(',')}`, ...args],
      {
        env: { ...env, ETCDCTL_API: '3', ...options.env },
        timeout: options.timeoutMs ?? 20_000,
        encoding: 'utf8',
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`etcdctl ${args.join(' ')} did not run: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ exitCode: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

/** Runs etcdctl as runEtcdctl does (60 s bound) and resolves with its stdout; a non-zero exit rejects with its stderr. */
export async function etcdctlOutput(endpoints: readonly string[], args: readonly string[]): Promise<string> {
  const r = await runEtcdctl(endpoints, args, { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Parses etcdctl's `-w json` output keeping 64-bit integers exact: etcdctl prints ids and
 * revisions as bare JSON numbers, which JSON.parse would round above 2^53. Every integer of 16
 * or more digits becomes a decimal string.
 */
export function parseEtcdctlJson(text: string): unknown {
  return JSON.parse(text.replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"'));
}
