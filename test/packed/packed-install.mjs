#!/usr/bin/env node
/**
 * The packed-tarball test: what a user gets from npm. Packs every package of the workspace the
 * way a release would (`pnpm -r pack`, which builds each package first), checks what each
 * tarball holds, installs the tarballs with npm into an empty project outside the workspace,
 * and there runs consumer/cluster.mjs (plain ESM) and consumer/cluster.ts (compiled with
 * strict, skipLibCheck false, exactOptionalPropertyTypes, NodeNext): each imports every entry
 * point and runs a 3-node cluster on SQLite and TCP. The root README's "Use it in your project"
 * example is compiled there too.
 *
 *   node test/packed/packed-install.mjs [--keep]
 *
 * Takes a few minutes: npm compiles better-sqlite3. Every step has a time limit; the first
 * failure exits non-zero with what the step printed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

// 1. Pack, as a release would. The packages' prepack scripts build them from a clean dist/.
// The library packages. @pontoon/kv and pontoon-kv are still being built (issues 14 and 15) and
// are not packed yet: their packaging (peer dependencies, built files only) comes with them.
step('pnpm -r pack', 'npx', ['-y', 'pnpm@10', '-r', '--filter', './packages/*', '--filter', '!./packages/kv', '--filter', '!./packages/kv-server', 'pack', '--pack-destination', tarballs], repo, 8);
const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz')).sort();
const expected = ['pontoon-raft-0.1.0.tgz', 'pontoon-sim-0.1.0.tgz', 'pontoon-storage-sqlite-0.1.0.tgz', 'pontoon-transport-tcp-0.1.0.tgz'];
if (files.join() !== expected.join()) fail(`tarballs ${files.join(', ')}; expected ${expected.join(', ')}`);

// 2. What each tarball holds: built JS, declarations, README, LICENSE, package.json; nothing else.
for (const f of files) {
  const listing = execFileSync('tar', ['tzf', join(tarballs, f)], { encoding: 'utf8' }).trim().split('\n');
  const stray = listing.filter((p) => !/^package\/(package\.json|README\.md|LICENSE|dist\/src\/.+\.(js|d\.ts))$/.test(p));
  if (stray.length > 0) fail(`${f} holds ${stray.join(', ')}`);
  for (const must of ['package/LICENSE', 'package/README.md', 'package/dist/src/index.js', 'package/dist/src/index.d.ts']) {
    if (!listing.includes(must)) fail(`${f} lacks ${must}`);
  }
  const manifest = JSON.parse(execFileSync('tar', ['xzf', join(tarballs, f), '-O', 'package/package.json'], { encoding: 'utf8' }));
  const text = JSON.stringify(manifest);
  if (text.includes('workspace:')) fail(`${f}: package.json still names workspace: versions`);
  if (JSON.stringify(manifest.exports).includes('@pontoon/source')) fail(`${f}: package.json exports the workspace-only @pontoon/source condition`);
  if (manifest.engines?.node === undefined) fail(`${f}: no engines.node`);
  if (manifest.license !== 'Apache-2.0') fail(`${f}: license ${manifest.license}`);
  if (manifest.name !== '@pontoon/raft' && manifest.peerDependencies?.['@pontoon/raft'] === undefined) {
    fail(`${f}: @pontoon/raft is not a peer dependency`);
  }
  if (manifest.dependencies?.['@pontoon/raft'] !== undefined) fail(`${f}: @pontoon/raft is a plain dependency`);
}
console.log(`packed: ${files.length} tarballs hold only dist/src (*.js, *.d.ts), README.md, LICENSE, package.json`);

// 3. An empty project outside the workspace, with the tarballs installed by npm.
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
for (const f of ['cluster.mjs', 'cluster.ts', 'tsconfig.json']) copyFileSync(join(consumer, f), join(app, f));
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const example = /## Use it in your project[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
if (example === null) fail('README.md has no TypeScript example under "Use it in your project"');
writeFileSync(join(app, 'readme-example.ts'), example[1]);
step(
  'npm install of the tarballs (compiles better-sqlite3)',
  'npm',
  ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files.map((f) => join(tarballs, f)), 'typescript@~5.9.3', '@types/node@^20.19.0'],
  app,
  12,
);

// 4. Plain ESM, then TypeScript with the strictest settings, each running a cluster.
console.log(step('plain ESM: import every entry point, run 3 nodes on SQLite and TCP', 'node', ['cluster.mjs'], app, 2).trim());
step('tsc on cluster.ts and the README example: strict, skipLibCheck false, exactOptionalPropertyTypes, NodeNext', 'npx', ['tsc', '-p', 'tsconfig.json'], app, 3);
console.log(step('TypeScript: run the compiled cluster', 'node', ['dist/cluster.js'], app, 2).trim());
finish(0);
