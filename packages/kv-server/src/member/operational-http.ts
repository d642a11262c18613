/**
 * etcd's operational HTTP endpoints, served on `--listen-metrics-urls` and, as etcd 3.4 does,
 * on plain-HTTP/1.1 requests to the client URLs: `/metrics` (Prometheus text, etcd's metric
 * names where pontoon-kv has the same measure), `/health` (`{"health":"true"}`, 503 with
 * `"false"` when the member has no leader or cannot read through Raft) and `/version`.
 */
import { statSync } from 'node:fs';
import type http from 'node:http';
import { join } from 'node:path';
import type { KvMember } from '@pontoon/kv';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ETCD_VERSION } from '../server/maintenance-service.js';

/** How long /health waits for its read through Raft. */
const HEALTH_READ_TIMEOUT_MS = 1000;

/** The member's Prometheus registry, with etcd's names. */
export function memberMetrics(member: KvMember, storeDir: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => (member.raft.leaderId === undefined ? 0 : 1));
  gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => (member.isLeader ? 1 : 0));
  gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', () => member.raft.status().commitIndex);
  gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', () => member.raft.status().appliedIndex);
  gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', () => fileBytes(storeDir));
  gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => member.revision);
  new Gauge({ name: 'etcd_server_version', help: 'Which version is running. 1 for \'server_version\' label with current version.', labelNames: ['server_version'], registers: [registry] })
    .set({ server_version: ETCD_VERSION }, 1);
  new Gauge({ name: 'etcd_cluster_version', help: 'Which version is running. 1 for \'cluster_version\' label with current cluster version', labelNames: ['cluster_version'], registers: [registry] })
    .set({ cluster_version: '3.4' }, 1);
  const leaderChanges = new Counter({ name: 'etcd_server_leader_changes_seen_total', help: 'The number of leader changes seen.', registers: [registry] });
  member.raft.on('leaderChanged', ({ leaderId }) => {
    if (leaderId !== undefined) leaderChanges.inc();
  });
  if (member.raft.leaderId !== undefined) leaderChanges.inc();
  return registry;
}

/** The request handler for /metrics, /health and /version. */
export function operationalHandler(member: KvMember, registry: Registry): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
      return;
    }
    if (path === '/health') {
      void health(member).then((ok) => {
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ health: String(ok) }));
      });
      return;
    }
    if (path === '/version') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ etcdserver: ETCD_VERSION, etcdcluster: '3.4.0' }));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  };
}

/** etcd's health check: a leader is known and a linearizable read goes through. */
async function health(member: KvMember): Promise<boolean> {
  if (member.raft.leaderId === undefined) return false;
  try {
    await member.get('health', { timeoutMs: HEALTH_READ_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

/** The store's size on disk: the database and its write-ahead file. */
function fileBytes(storeDir: string): number {
  let total = 0;
  for (const f of ['kv.db', 'kv.db-wal']) {
    try {
      total += statSync(join(storeDir, f)).size;
    } catch {
      // absent: counts as 0
    }
  }
  return total;
}
