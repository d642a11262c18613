/**
 * `pontoon-kv` serving: the member (start-member.ts), etcd's gRPC API on the client URLs,
 * /metrics and /health, and etcd 3.4's readiness lines once the member serves clients.
 */
import http from 'node:http';
import type { EtcdServerConfig } from '../cli/server-config.js';
import { formatMemberId } from '../member-id.js';
import { startEtcdGrpcServer, type EtcdGrpcServer } from '../server/etcd-grpc-server.js';
import { ClientPort } from './client-port.js';
import type { EtcdLog } from './etcd-log.js';
import { hostPortOf } from './member-directory.js';
import { memberDir } from './member-identity.js';
import { MemberMetrics } from './member-metrics.js';
import { operationalHandler } from './operational-http.js';
import { startMember, type StartedMember } from './start-member.js';
import { loadTlsMaterial } from './tls-material.js';

/** A serving member; close() stops it cleanly. */
export interface ServingMember {
  readonly started: StartedMember;
  /** Resolves once the readiness lines were logged (the member serves clients). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export async function serveMember(config: EtcdServerConfig, log: EtcdLog): Promise<ServingMember> {
  const hostsOf = (urls: readonly string[]): string[] => urls.map((u) => hostPortOf(u).host);
  const peerTls = await loadTlsMaterial(config.peerTls, hostsOf([...config.listenPeerUrls, ...config.initialAdvertisePeerUrls]), 'peer-');
  const clientTls = await loadTlsMaterial(config.clientTls, hostsOf([...config.listenClientUrls, ...config.advertiseClientUrls]), '');
  if (config.clientTls.autoTls && config.clientTls.certFile === '') {
    log.warn('embed', 'automatically generated client certificate (self-signed)', {});
  }
  const metrics = new MemberMetrics();
  const started = await startMember(config, log, peerTls, metrics.raft);
  const { member, ids, identity, self, leaderProgress } = started;
  let grpc: EtcdGrpcServer | undefined;
  const ports: ClientPort[] = [];
  const metricsServers: http.Server[] = [];
  const stopping = new AbortController();
  const close = async (): Promise<void> => {
    stopping.abort();
    await Promise.all(ports.map((p) => p.close()));
    await Promise.all(metricsServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await grpc?.close();
    await started.close();
  };
  try {
    grpc = await startEtcdGrpcServer({ member, ids, listen: '127.0.0.1:0', maxRequestBytes: config.maxRequestBytes, metrics: metrics.grpc, leaderProgress });
    const grpcAddress = hostPortOf(`http://${grpc.addresses[0]!}`);
    metrics.observe(member, memberDir(config.dataDir));
    const handler = operationalHandler(member, metrics.registry);
    for (const url of config.listenClientUrls) {
      const { host, port } = hostPortOf(url);
      const p = new ClientPort({ host, port, grpcAddress, ...(clientTls === undefined ? {} : { tls: clientTls }), http: handler });
      await p.listen();
      ports.push(p);
    }
    for (const url of config.listenMetricsUrls) {
      const { host, port } = hostPortOf(url);
      const server = http.createServer(handler);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      metricsServers.push(server);
    }
  } catch (err) {
    await close();
    throw err;
  }

  const ready = (async () => {
    // As etcd, the member publishes its attributes (name, client URLs) through the log, to the
    // cluster's members table, and serves once that applied; retried until a leader takes it.
    for (;;) {
      if (stopping.signal.aborted) return;
      try {
        await ids.setMember(self, AbortSignal.any([stopping.signal, AbortSignal.timeout(5000)]));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const clusterId = formatMemberId(identity.clusterId);
    log.log('info', 'etcdserver', {
      msg: 'published local member to cluster through raft',
      text: `published {Name:${config.name} ClientURLs:[${config.advertiseClientUrls.join(' ')}]} to cluster ${clusterId}`,
      fields: {
        'local-member-id': formatMemberId(identity.memberId),
        'local-member-attributes': `{Name:${config.name} ClientURLs:[${config.advertiseClientUrls.join(' ')}]}`,
        'cluster-id': clusterId,
      },
    });
    log.log('info', 'embed', { msg: 'ready to serve client requests' });
    for (const url of config.listenClientUrls) {
      const { host, port } = hostPortOf(url);
      const address = `${host}:${port}`;
      if (clientTls === undefined) {
        log.log('info', 'embed', {
          msg: 'serving client traffic insecurely; this is strongly discouraged!',
          text: `serving insecure client requests on ${address}, this is strongly discouraged!`,
          fields: { address },
        });
      } else {
        log.log('info', 'embed', { msg: 'serving client traffic securely', text: `serving client requests on ${address}`, fields: { address } });
      }
    }
    log.log('info', 'etcdserver/api', {
      msg: 'enabled capabilities for version',
      text: 'enabled capabilities for version 3.4',
      fields: { 'cluster-version': '3.4' },
    });
  })();
  return { started, ready, close };
}
