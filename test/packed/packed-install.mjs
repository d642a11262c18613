#!/usr/bin/env node
/**
 * The packed-tarball test: what a user gets from npm. Packs every package of the workspace the
 * way a release would and as the root README says (`pnpm -r pack`, which builds each package
 * first), checks what each tarball holds and that every import of its JavaScript is declared,
 * installs the tarballs with npm into an empty project outside the workspace, and there runs:
 * - consumer/cluster.mjs (plain ESM) and consumer/cluster.ts (compiled with strict, skipLibCheck
 *   false, exactOptionalPropertyTypes, NodeNext): each imports every entry point of the Raft
 *   packages and runs a 3-node cluster on SQLite and TCP;
 * - consumer/kv-server.mjs: every entry point of @pontoon/kv and pontoon-kv from plain ESM, and
 *   `node_modules/.bin/pontoon-kv` as one process on free ports, a put and a get with etcdctl,
 *   a clean exit on SIGTERM;
 * - consumer/kv.ts (compiled as cluster.ts): the same entry points from TypeScript, a @pontoon/kv
 *   member embedded in-process used through its typed API, then served with pontoon-kv's gRPC
 *   server and read with etcdctl.
 * The root README's "Use it in your project" example is compiled there too. etcdctl 3.4 comes
 * from `.ci/install-etcd.sh`, run first as the README's test command does.
 *
 *   node test/packed/packed-install.mjs [--keep]
 *
 * Takes a few minutes: npm compiles better-sqlite3. Every step has a time limit; the first
 * failure exits non-zero with what the step printed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const consumer = fileURLToPath(new URL('consumer/', import.meta.url));
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'pontoon-packed-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
const started = Date.now();

function step(what, command, args, cwd, timeoutMinutes) {
  const t0 = Date.now();
  process.stdout.write(`packed: ${what} ... `);
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMinutes * 60_000, env: { ...process.env, npm_config_yes: 'true' } });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    const why = r.error !== undefined ? String(r.error) : r.signal !== null ? `killed by ${r.signal} (limit ${timeoutMinutes} min)` : `exit ${r.status}`;
    console.log(`FAILED after ${seconds} s (${why})\n$ ${command} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    finish(1);
  }
  console.log(`ok (${seconds} s)`);
  return r.stdout;
}

function fail(message) {
  console.log(`packed: FAILED: ${message}`);
  finish(1);
}

function finish(code) {
  if (keep) console.log(`packed: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  if (code === 0) console.log(`packed: passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exit(code);
}

// 0. etcdctl for the pontoon-kv steps, installed as the README's test command does (quick when
// it is there). First, so that a machine without it fails before the long steps.
step('etcd 3.4 and etcdctl (.ci/install-etcd.sh)', 'bash', ['.ci/install-etcd.sh'], repo, 5);

// 1. Pack, as a release would and as the README says. The packages' prepack scripts build them
// from a clean dist/. @pontoon/kv and pontoon-kv both pack to pontoon-kv-0.1.0.tgz (npm and pnpm
// name a tarball after the package name without its @ and /), so pontoon-kv goes to a
// directory of its own.
const serverTarballs = join(tarballs, 'server');
step('pnpm -r pack', 'npx', ['-y', 'pnpm@10', '-r', '--filter', './packages/*', '--filter', '!./packages/kv-server', 'pack', '--pack-destination', tarballs], repo, 8);
step('pnpm pack of pontoon-kv', 'npx', ['-y', 'pnpm@10', '-r', '--filter', './packages/kv-server', 'pack', '--pack-destination', serverTarballs], repo, 4);
const files = [
  ...readdirSync(tarballs).filter((f) => f.endsWith('.tgz')).map((f) => join(tarballs, f)),
  ...readdirSync(serverTarballs).filter((f) => f.endsWith('.tgz')).map((f) => join(serverTarballs, f)),
];
const names = files.map((f) => JSON.parse(execFileSync('tar', ['xzf', f, '-O', 'package/package.json'], { encoding: 'utf8' })).name).sort();
const expected = ['@pontoon/kv', '@pontoon/raft', '@pontoon/sim', '@pontoon/storage-sqlite', '@pontoon/transport-tcp', 'pontoon-kv'];
if (names.join() !== expected.join()) fail(`tarballs of ${names.join(', ')}; expected ${expected.join(', ')}`);

// 2. What each tarball holds: built JS, declarations, README, LICENSE, package.json; pontoon-kv
// also its command and the vendored .proto files with their license. Nothing else. Every bare
// import in the built JavaScript is a Node builtin or a declared (peer) dependency: npm hoists
// packages, so an undeclared one could work here by luck and fail elsewhere.
const NODE_BUILTINS = new Set(builtinModules);
const extras = {
  'pontoon-kv': {
    allowed: /^package\/(bin\/pontoon-kv|proto\/.+\.proto|proto\/README\.md|proto\/etcd\/LICENSE)$/,
    required: ['package/bin/pontoon-kv', 'package/dist/src/main.js', 'package/dist/src/testing/index.js', 'package/dist/src/testing/index.d.ts', 'package/proto/etcd/LICENSE', 'package/proto/etcd/etcdserver/etcdserverpb/rpc.proto'],
    peers: ['@pontoon/raft', '@pontoon/kv'],
  },
};
const unpacked = join(work, 'unpacked');
for (const f of files) {
  const manifest = JSON.parse(execFileSync('tar', ['xzf', f, '-O', 'package/package.json'], { encoding: 'utf8' }));
  const what = `${manifest.name} (${f.slice(tarballs.length + 1)})`;
  const extra = extras[manifest.name] ?? { allowed: /^$/, required: [], peers: manifest.name === '@pontoon/raft' ? [] : ['@pontoon/raft'] };
  const listing = execFileSync('tar', ['tzf', f], { encoding: 'utf8' }).trim().split('\n');
  const stray = listing.filter((p) => !/^package\/(package\.json|README\.md|LICENSE|dist\/src\/.+\.(js|d\.ts))$/.test(p) && !extra.allowed.test(p));
  if (stray.length > 0) fail(`${what} holds ${stray.join(', ')}`);
  for (const must of ['package/LICENSE', 'package/README.md', 'package/dist/src/index.js', 'package/dist/src/index.d.ts', ...extra.required]) {
    if (!listing.includes(must)) fail(`${what} lacks ${must}`);
  }
  const text = JSON.stringify(manifest);
  if (text.includes('workspace:')) fail(`${what}: package.json still names workspace: versions`);
  if (JSON.stringify(manifest.exports).includes('@pontoon/source')) fail(`${what}: package.json exports the workspace-only @pontoon/source condition`);
  if (manifest.engines?.node === undefined) fail(`${what}: no engines.node`);
  if (manifest.license !== 'Apache-2.0') fail(`${what}: license ${manifest.license}`);
  for (const peer of extra.peers) {
    if (manifest.peerDependencies?.[peer] === undefined) fail(`${what}: ${peer} is not a peer dependency`);
    if (manifest.dependencies?.[peer] !== undefined) fail(`${what}: ${peer} is a plain dependency`);
  }
  if (manifest.dependencies?.['tsx'] !== undefined) fail(`${what}: depends on tsx`);
  for (const bin of Object.values(manifest.bin ?? {})) {
    const mode = execFileSync('tar', ['tvzf', f, `package/${bin.replace(/^\.\//, '')}`], { encoding: 'utf8' });
    if (!mode.startsWith('-rwx')) fail(`${what}: ${bin} is not executable: ${mode.trim()}`);
  }
  const into = join(unpacked, manifest.name);
  mkdirSync(into, { recursive: true });
  execFileSync('tar', ['xzf', f, '-C', into]);
  const declared = new Set([manifest.name, ...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
  for (const js of listing.filter((p) => p.endsWith('.js'))) {
    const source = readFileSync(join(into, js), 'utf8');
    for (const [, , specifier] of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])((?:@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*(?:\/[^'"\s]*)?|node:[^'"\s]+)\1/g)) {
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
      if (!specifier.startsWith('node:') && !NODE_BUILTINS.has(name) && !declared.has(name)) fail(`${what}: ${js} imports ${specifier}, not a declared dependency`);
    }
  }
}
console.log(`packed: ${files.length} tarballs hold only dist/src (*.js, *.d.ts), README.md, LICENSE, package.json (pontoon-kv: and bin/, proto/); their imports are declared`);

// 3. An empty project outside the workspace, with the tarballs installed by npm.
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
for (const f of ['cluster.mjs', 'cluster.ts', 'kv-server.mjs', 'kv.ts', 'tsconfig.json']) copyFileSync(join(consumer, f), join(app, f));
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const example = /## Use it in your project[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
if (example === null) fail('README.md has no TypeScript example under "Use it in your project"');
writeFileSync(join(app, 'readme-example.ts'), example[1]);
step(
  'npm install of the tarballs (compiles better-sqlite3)',
  'npm',
  ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files, 'typescript@~5.9.3', '@types/node@^20.19.0'],
  app,
  12,
);

// 4. Plain ESM, then TypeScript with the strictest settings: a Raft cluster, the pontoon-kv
// command, an embedded @pontoon/kv member.
console.log(step('plain ESM: import every entry point, run 3 nodes on SQLite and TCP', 'node', ['cluster.mjs'], app, 2).trim());
console.log(step('plain ESM: @pontoon/kv and pontoon-kv entry points, node_modules/.bin/pontoon-kv with etcdctl', 'node', ['kv-server.mjs'], app, 2).trim());
step('tsc on cluster.ts, kv.ts and the README example: strict, skipLibCheck false, exactOptionalPropertyTypes, NodeNext', 'npx', ['tsc', '-p', 'tsconfig.json'], app, 3);
console.log(step('TypeScript: run the compiled cluster', 'node', ['dist/cluster.js'], app, 2).trim());
console.log(step('TypeScript: an embedded @pontoon/kv member, served to etcdctl', 'node', ['dist/kv.js'], app, 2).trim());
finish(0);
