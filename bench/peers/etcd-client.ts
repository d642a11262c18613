/**
 * Client process for etcd: the `etcd3` npm client (installed under .deps, not in the workspace)
 * connected to the leader only, so that no put pays a follower's forwarding hop (etcd's best
 * case), one key per worker, the value the payload. Before each level it compacts the key space
 * to the current revision, as an operator would, so the runs do not grow one history.
 *
 *   etcd-client.ts <etcd3 prefix dir> <endpoint,endpoint,...>
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { findLeader } from '../lib/etcd-leader.js';
import { serveLoad } from './client-process.js';

/** The part of etcd3's API this client uses (the package is outside the workspace's types). */
interface Etcd3Client {
  put(key: string): { value(v: Buffer): { exec(): Promise<unknown> } };
  maintenance: { status(): Promise<{ header: { revision: string; member_id: string }; leader: string }> };
  kv: { compact(req: { revision: string; physical: boolean }): Promise<unknown> };
  close(): void;
}
type Etcd3Constructor = new (options: { hosts: string; dialTimeout?: number }) => Etcd3Client;

const [prefix, endpointList] = process.argv.slice(2);
if (prefix === undefined || endpointList === undefined) throw new Error('usage: etcd-client.ts <prefix> <endpoints>');
const require = createRequire(path.join(prefix, 'package.json'));
const { Etcd3 } = require('etcd3') as { Etcd3: Etcd3Constructor };

serveLoad(async () => {
  const leader = await findLeader(Etcd3, endpointList.split(','), 20_000);
  const client = new Etcd3({ hosts: leader });
  const keys = Array.from({ length: 1024 }, (_, i) => `bench/${i}`);
  let compactedAt = '0';
  return {
    write: async (worker, value) => {
      await client.put(keys[worker % keys.length]!).value(value).exec();
    },
    beforeLevel: async () => {
      const { header } = await client.maintenance.status();
      if (header.revision === compactedAt) return;
      await client.kv.compact({ revision: header.revision, physical: true });
      compactedAt = header.revision;
    },
    close: async () => client.close(),
  };
});
