/**
 * A node of `skiff`, with its own TCP transport (msgpack over one connection per peer) and its
 * levelup interface: a write is `db.put(key, value)` on the leader, which calls back once the
 * entry is committed by a majority and applied to the leader's state database.
 *
 * What its code does, read for this benchmark (1.10.0):
 * - Its log and state live in leveldb, written with plain batches (leveldown's default
 *   `sync: false`): a follower acknowledges an AppendEntries once its batch is in the OS page
 *   cache, and the leader keeps new entries in memory until it applies them. Nothing is fsynced
 *   before a write is acknowledged, so it is not durable against a power loss.
 * - It depends on leveldown ^1.4.6, whose native addon does not compile against Node 20's V8;
 *   the suite installs it with leveldown overridden to 6.x (same API, prebuilt binaries).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { ELECTION_MAX_MS, ELECTION_MIN_MS } from './js-raft.js';
import type { JsRaftNode, JsRaftNodeConfig } from './js-raft.js';

/** The part of skiff's API this node uses. */
interface SkiffNode {
  start(cb: (err?: Error) => void): void;
  stop(cb: (err?: Error) => void): void;
  is(state: 'leader'): boolean;
  on(event: 'warning', fn: (err: Error) => void): void;
  levelup(): { put(key: string, value: string, cb: (err?: Error) => void): void };
}
type SkiffFactory = (address: string, options: Record<string, unknown>) => SkiffNode;

export async function startSkiff(config: JsRaftNodeConfig): Promise<JsRaftNode> {
  const require = createRequire(path.join(config.prefix, 'package.json'));
  const Skiff = require('skiff') as SkiffFactory;
  const address = (port: number): string => `/ip4/127.0.0.1/tcp/${port}`;
  const myPort = config.raftPorts[config.index]!;
  const node = Skiff(address(myPort), {
    location: config.dataDir,
    peers: config.raftPorts.filter((p) => p !== myPort).map(address),
    electionTimeoutMinMS: ELECTION_MIN_MS,
    electionTimeoutMaxMS: ELECTION_MAX_MS,
  });
  // Warnings are skiff's reports of dropped connections and retried RPCs, part of its normal
  // operation while peers start.
  node.on('warning', () => {});
  await new Promise<void>((resolve, reject) => node.start((err) => (err ? reject(err) : resolve())));
  const db = node.levelup();
  return {
    isLeader: () => node.is('leader'),
    submit: (key, value) =>
      new Promise<void>((resolve, reject) => db.put(key, value, (err) => (err ? reject(err) : resolve()))),
    close: () => new Promise<void>((resolve) => node.stop(() => resolve())),
  };
}
