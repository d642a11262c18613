// What a user of pontoon-kv gets after `npm install` of the packed tarballs: every entry point of
// @pontoon/kv and pontoon-kv imported from plain ESM, and the `pontoon-kv` command run from
// node_modules/.bin as a supervisor would: one process (plain node on the built JavaScript, no
// tsx), etcd's readiness line, a put and a get with etcdctl, and a clean exit on SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KvMember, MvccStore, openKvMember, StoreClosedError } from '@pontoon/kv';
import { PontoonError } from '@pontoon/raft';
import { ETCD_VERSION, loadEtcdProtos, parseCommandLine } from 'pontoon-kv';
import { freePort, PONTOON_KV_BIN, runEtcdctl, startPontoonKvCluster } from 'pontoon-kv/testing';

if ([KvMember, openKvMember, parseCommandLine, loadEtcdProtos, freePort, runEtcdctl, startPontoonKvCluster].some((f) => typeof f !== 'function')) {
  throw new Error('an export is missing');
}
if (!(new StoreClosedError() instanceof PontoonError)) throw new Error('@pontoon/kv does not share @pontoon/raft\'s PontoonError');
const store = MvccStore.open(':memory:');
store.close();
if (existsSync('node_modules/tsx')) throw new Error('tsx was installed: a published package depends on it');
const bin = resolve('node_modules/.bin/pontoon-kv');
if (realpathSync(PONTOON_KV_BIN) !== realpathSync(bin)) throw new Error(`pontoon-kv/testing runs ${PONTOON_KV_BIN}, not ${bin}`);

const dir = mkdtempSync(join(tmpdir(), 'pontoon-consumer-kv-server-'));
const client = `http://127.0.0.1:${await freePort()}`;
const peer = `http://127.0.0.1:${await freePort()}`;
const child = spawn(bin, [
  '--name=one',
  `--data-dir=${join(dir, 'one.etcd')}`,
  `--listen-client-urls=${client}`,
  `--advertise-client-urls=${client}`,
  `--listen-peer-urls=${peer}`,
  `--initial-advertise-peer-urls=${peer}`,
  `--initial-cluster=one=${peer}`,
], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
child.stderr.setEncoding('utf8');
child.stderr.on('data', (d) => (log += d));
const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
try {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pontoon-kv not ready after 60 s:\n${log}`)), 60_000);
    child.stderr.on('data', () => log.includes('ready to serve client requests') && (clearTimeout(timer), resolve()));
    exited.then(({ code, signal }) => (clearTimeout(timer), reject(new Error(`pontoon-kv exited (${code ?? signal}) before it was ready:\n${log}`))));
  });
  // One process: the pid spawned is node running the built member, not a shell or tsx.
  const commandLine = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
  if (!/(^|\/)node$/.test(commandLine[0]) || commandLine[1] !== realpathSync('node_modules/pontoon-kv/dist/src/main.js')) {
    throw new Error(`pid ${child.pid} runs ${commandLine.join(' ')}`);
  }
  const put = await runEtcdctl([client], ['put', 'greeting', 'hello']);
  const get = await runEtcdctl([client], ['get', 'greeting']);
  if (put.stdout !== 'OK\n' || get.stdout !== 'greeting\nhello\n') throw new Error(`etcdctl: put ${put.stdout}${put.stderr} get ${get.stdout}${get.stderr}`);
  child.kill('SIGTERM');
  const end = await exited;
  if (end.code !== 0 || !log.includes('received terminated signal, shutting down')) throw new Error(`after SIGTERM: ${JSON.stringify(end)}\n${log}`);
  console.log(`plain ESM: node_modules/.bin/pontoon-kv (etcd ${ETCD_VERSION}) served etcdctl's put and get, exited 0 on SIGTERM`);
} finally {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
