/**
 * What a TypeScript user of @pontoon/kv writes after `npm install` of the packed tarballs: every
 * entry point of @pontoon/kv and pontoon-kv imported, a member embedded in-process and used through
 * its typed API (put, get, txn, watch, a lease), then the same member served to etcd clients with
 * pontoon-kv's gRPC server and read back with etcdctl. Compiled with the strictest settings
 * (tsconfig.json beside this file) and then run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalPeerNetwork, MvccStore, openKvMember, type KvMember } from '@pontoon/kv';
import { MemoryNetwork, PontoonError, type Member } from '@pontoon/raft';
import { computeClusterId, computeMemberId, loadEtcdProtos, parseCommandLine, startEtcdGrpcServer, StaticEtcdIds } from 'pontoon-kv';
import { freePort, PONTOON_KV_BIN, runEtcdctl, startEtcdCluster } from 'pontoon-kv/testing';

if (typeof MvccStore.open !== 'function' || typeof parseCommandLine !== 'function' || typeof startEtcdCluster !== 'function') {
  throw new Error('an export is missing');
}
if (!PONTOON_KV_BIN.endsWith(join('node_modules', 'pontoon-kv', 'bin', 'pontoon-kv'))) throw new Error(`PONTOON_KV_BIN is ${PONTOON_KV_BIN}`);
// The protos are found from dist/ in the installed package.
if (loadEtcdProtos().services.KV === undefined) throw new Error('no KV service in the loaded protos');

// Options a user computes may be undefined; with exactOptionalPropertyTypes they must still fit.
const timeoutMs: number | undefined = process.env['ETCDCTL_TIMEOUT_MS'] === undefined ? undefined : Number(process.env['ETCDCTL_TIMEOUT_MS']);
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

const dir = mkdtempSync(join(tmpdir(), 'pontoon-consumer-kv-'));
const initialMembers: Member[] = [{ id: 1, address: 'm1' }];
const member: KvMember = await openKvMember({
  id: 1,
  dataDir: join(dir, 'm1'),
  transport: new MemoryNetwork().transport(1),
  peers: new LocalPeerNetwork().link(1),
  initialMembers,
  raft: { tickMs: 20, electionTicks: 10 },
});
try {
  const watch = member.watch('app/', { prefix: true });
  const put = await member.put('app/mode', 'blue');
  const swapped = await member.txn({
    compare: [{ key: Buffer.from('app/mode'), target: 'value', result: 'equal', value: Buffer.from('blue') }],
    success: [{ put: { key: Buffer.from('app/mode'), value: Buffer.from('green') } }],
    failure: [],
  });
  const session = await member.lease(10);
  await member.put('app/owner', 'consumer', { lease: session.id });
  const { kvs, header } = await member.get('app/', { prefix: true });
  const seen: string[] = [];
  for await (const resp of watch) {
    for (const e of resp.events) seen.push(`${e.type} ${text(e.kv.key)}=${text(e.kv.value)}`);
    if (resp.revision >= header.revision) break;
  }
  const got = kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}@${kv.version}`).join(' ');
  if (!swapped.succeeded || got !== 'app/mode=green@2 app/owner=consumer@1' || header.revision !== put.header.revision + 2) {
    throw new Error(`embedded member: txn ${swapped.succeeded}, got ${got} at revision ${header.revision}`);
  }
  if (seen.join(', ') !== 'put app/mode=blue, put app/mode=green, put app/owner=consumer') throw new Error(`watch saw ${seen.join(', ')}`);

  // The same member served to etcd clients: one @pontoon/kv in the project, shared by both packages.
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const memberId = computeMemberId([peerUrl], 'consumer');
  const ids = new StaticEtcdIds(computeClusterId([memberId]), [{ id: memberId, raftId: 1, name: 'm1', peerURLs: [peerUrl], clientURLs: [] }]);
  const server = await startEtcdGrpcServer({ member, ids, listen: '127.0.0.1:0' });
  try {
    const endpoint = server.addresses[0]!;
    const r = await runEtcdctl([endpoint], ['get', 'app/', '--prefix', '--print-value-only'], { timeoutMs });
    if (r.exitCode !== 0 || r.stdout !== 'green\nconsumer\n') throw new Error(`etcdctl get: exit ${r.exitCode}: ${r.stdout}${r.stderr}`);
    await session.revoke();
    const after = await member.get('app/owner');
    if (after.kvs.length !== 0) throw new Error('the revoked lease left its key');
  } finally {
    await server.close();
  }
  const stopped = await member.close().then(() => member.get('app/mode', { serializable: true })).catch((err: unknown) => err);
  if (!(stopped instanceof PontoonError)) throw new Error(`a closed member answered ${String(stopped)}, not a PontoonError`);
  console.log(`typescript: embedded @pontoon/kv member: ${got}, watch saw ${seen.length} events, etcdctl read it through pontoon-kv's server`);
} finally {
  await member.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
