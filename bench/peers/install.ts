/**
 * Installs the peers at run time, outside the workspace: etcd from Debian with apt-get, and the
 * npm packages into bench/peers/.deps/<peer>/ with `npm install --prefix` (pinned versions, one
 * prefix per peer so that one that fails to build does not take the others with it). Nothing
 * here touches the workspace lockfile. A second run finds everything in place and installs
 * nothing.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where the npm peers are installed (gitignored). */
export const depsDir = path.join(here, '.deps');

const INSTALL_TIMEOUT_MS = 6 * 60_000;

export type Installed<T> = { ok: true; value: T; note: string } | { ok: false; reason: string };

/** An npm peer: the package to require and where it is installed. */
export interface NpmPeer {
  /** The directory whose node_modules holds the package (resolve from `${prefix}/package.json`). */
  prefix: string;
  version: string;
}

interface CommandResult {
  code: number | null;
  output: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}\n${err.message}` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function onPath(binary: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The etcd binary, installed from Debian's etcd-server package if it is not there yet. */
export async function ensureEtcd(log: (line: string) => void): Promise<Installed<{ binary: string; version: string }>> {
  let binary = onPath('etcd');
  let note = 'already installed';
  if (binary === undefined) {
    log('peers: installing etcd-server with apt-get');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let res = await run('apt-get', ['install', '-y', 'etcd-server'], env);
    if (res.code !== 0) {
      // A machine whose package lists were never fetched knows no etcd-server yet.
      await run('apt-get', ['update'], env);
      res = await run('apt-get', ['install', '-y', 'etcd-server'], env);
    }
    binary = onPath('etcd');
    if (res.code !== 0 || binary === undefined) {
      return { ok: false, reason: `apt-get install etcd-server failed: ${lastLines(res.output, 3)}` };
    }
    note = 'installed with apt-get';
  }
  const res = await run(binary, ['--version'], process.env);
  const version = /etcd Version: (\S+)/.exec(res.output)?.[1] ?? 'unknown';
  return { ok: true, value: { binary, version }, note };
}

/**
 * An npm package installed into its own prefix under .deps. `overrides` go into that prefix's
 * package.json (npm applies them to the whole dependency tree).
 */
export async function ensureNpm(
  dirName: string,
  pkg: string,
  version: string,
  log: (line: string) => void,
  overrides?: Record<string, string>,
): Promise<Installed<NpmPeer>> {
  const prefix = path.join(depsDir, dirName);
  const failureFile = path.join(prefix, 'install-failed.txt');
  const installed = path.join(prefix, 'node_modules', ...pkg.split('/'), 'package.json');
  const wanted = JSON.stringify({ private: true, dependencies: { [pkg]: version }, ...(overrides ? { overrides } : {}) }, null, 2);
  const manifest = path.join(prefix, 'package.json');
  const same = fs.existsSync(manifest) && fs.readFileSync(manifest, 'utf8') === wanted;
  if (same && fs.existsSync(installed)) return { ok: true, value: { prefix, version }, note: 'already installed' };
  // A build failure does not go away by itself (same Node, same package): remember it rather
  // than spend a minute compiling it again on every run. Delete the file to try again.
  if (same && fs.existsSync(failureFile)) {
    const recorded = JSON.parse(fs.readFileSync(failureFile, 'utf8')) as { node: string; reason: string };
    if (recorded.node === process.version) return { ok: false, reason: recorded.reason };
  }
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(prefix, { recursive: true });
  fs.writeFileSync(manifest, wanted);
  log(`peers: npm install ${pkg}@${version}${overrides ? ` (overrides ${JSON.stringify(overrides)})` : ''} into ${path.relative(process.cwd(), prefix)}`);
  const res = await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], process.env, prefix);
  fs.writeFileSync(path.join(prefix, 'npm-install.log'), res.output);
  if (res.code === 0 && fs.existsSync(installed)) return { ok: true, value: { prefix, version }, note: 'installed with npm' };
  const reason = `npm install ${pkg}@${version} failed on Node ${process.version}: ${npmFailure(res.output)}`;
  fs.writeFileSync(failureFile, JSON.stringify({ node: process.version, reason }));
  fs.rmSync(path.join(prefix, 'node_modules'), { recursive: true, force: true });
  return { ok: false, reason };
}

/** The package whose native build failed and the first compiler error, out of npm's output. */
export function npmFailure(output: string): string {
  const lines = output.split('\n').map((l) => l.replace(/^npm error\s*/, '').trim());
  const cwd = lines.find((l) => l.startsWith('gyp ERR! cwd'));
  const pkg = cwd?.split('node_modules/').pop();
  const version = lines.find((l) => l.startsWith('gyp ERR! $npm_package_version'))?.split(' ').pop();
  const compileError = lines.find((l) => /error:/.test(l) && /\.(cc|cpp|h):\d+/.test(l));
  if (pkg !== undefined && compileError !== undefined) {
    return `native build of ${pkg}${version === undefined ? '' : `@${version}`} failed (${compileError})`;
  }
  return lastLines(output, 3);
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
