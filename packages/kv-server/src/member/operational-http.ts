/**
 * etcd's operational HTTP endpoints, served on `--listen-metrics-urls` and, as etcd 3.4 does,
 * on plain-HTTP/1.1 requests to the client URLs: `/metrics` (Prometheus text, the registry of
 * member-metrics.ts), `/health` (`{"health":"true"}`, 503 with
 * `"false"` when the member has no leader or cannot read through Raft) and `/version`.
 */
import type http from 'node:http';
import type { KvMember } from '@pontoon/kv';
import type { Registry } from 'prom-client';
import { ETCD_VERSION } from '../server/maintenance-service.js';

/** How long /health waits for its read through Raft. */
const HEALTH_READ_TIMEOUT_MS = 1000;

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
      const body = JSON.stringify({ etcdserver: ETCD_VERSION, etcdcluster: '3.4.0' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
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
