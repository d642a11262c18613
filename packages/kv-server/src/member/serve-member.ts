/**
 * `pontoon-kv` serving: the member (start-member.ts), etcd's gRPC API on the client URLs,
 * /metrics and /health, and etcd 3.4's readiness lines once the member serves clients.
 */
import http from 'node:http';
import type { EtcdServerConfig } from '../cli/server-config.js';
import { formatMemberId } from '../member-id.js';
import { ETCD_VERSION } from '../server/maintenance-service.js';
import { startEtcdGrpcServer, type EtcdGrpcServer } from '../server/etcd-grpc-server.js';
import { GrpcGateway } from '../gateway/grpc-gateway.js';
import { loadEtcdProtos } from '../etcd-protos.js';
import { ClientPort } from './client-port.js';
import { clientHttpHandler } from './client-http.js';
import type { EtcdLog } from './etcd-log.js';
import { hostPortOf } from './member-directory.js';
import { memberDir, type MemberIdentity } from './member-identity.js';
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
  logStarting(config, log);
  const hostsOf = (urls: readonly string[]): string[] => urls.map((u) => hostPortOf(u).host);
  const peerTls = await loadTlsMaterial(config.peerTls, hostsOf([...config.listenPeerUrls, ...config.initialAdvertisePeerUrls]), 'peer-');
  const clientTls = await loadTlsMaterial(config.clientTls, hostsOf([...config.listenClientUrls, ...config.advertiseClientUrls]), '');
  if (config.clientTls.autoTls && config.clientTls.certFile === '') {
    log.warn('embed', 'automatically generated client certificate (self-signed)', {});
  }
  const metrics = new MemberMetrics();
  const started = await startMember(config, log, peerTls, metrics.raft);
  const { member, ids, identity, self, leaderProgress, contactView } = started;
  let grpc: EtcdGrpcServer | undefined;
  let gateway: GrpcGateway | undefined;
  const ports: ClientPort[] = [];
  const metricsServers: http.Server[] = [];
  const stopping = new AbortController();
  const close = async (): Promise<void> => {
    stopping.abort();
    // The gateway's streams end with etcd's last line before the ports drop their connections.
    await gateway?.close();
    await Promise.all(ports.map((p) => p.close()));
    await Promise.all(metricsServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await grpc?.close();
    await started.close();
  };
  try {
    // No address of its own: the client ports hand it their gRPC connections.
    grpc = await startEtcdGrpcServer({
      member,
      ids,
      listen: [],
      maxRequestBytes: config.maxRequestBytes,
      metrics: metrics.grpc,
      leaderProgress,
      contactView,
      strictReconfigCheck: config.strictReconfigCheck,
    });
    metrics.observe(member, memberDir(config.dataDir));
    const handler = operationalHandler(member, metrics.registry);
    const server = grpc;
    if (config.enableGrpcGateway) {
      gateway = new GrpcGateway({
        packageDefinition: loadEtcdProtos().packageDefinition,
        inject: (connection) => server.injectConnection(connection),
        maxRequestBytes: config.maxRequestBytes,
      });
    }
    const clientHttp = clientHttpHandler(gateway, handler);
    for (const url of config.listenClientUrls) {
      const { host, port } = hostPortOf(url);
      const p = new ClientPort({ host, port, grpc, ...(clientTls === undefined ? {} : { tls: clientTls }), http: clientHttp });
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
    logServing(config, log, formatMemberId(identity.memberId));
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
    logReady(config, log, identity, clientTls !== undefined);
  })();
  return { started, ready, close };
}

/** etcd's lines as it starts: its configuration, in each logger's words. */
function logStarting(config: EtcdServerConfig, log: EtcdLog): void {
  log.log('info', 'embed', { msg: 'configuring peer listeners', caller: 'embed/etcd.go:117', only: 'zap', fields: { 'listen-peer-urls': config.listenPeerUrls } });
  log.log('info', 'embed', { msg: 'configuring client listeners', caller: 'embed/etcd.go:127', only: 'zap', fields: { 'listen-client-urls': config.listenClientUrls } });
  log.log('info', 'etcdmain', { msg: `etcd Version: ${ETCD_VERSION}`, only: 'capnslog' });
  log.log('info', 'embed', {
    msg: 'starting an etcd server',
    caller: 'embed/etcd.go:305',
    only: 'zap',
    fields: {
      'etcd-version': ETCD_VERSION,
      name: config.name,
      'data-dir': config.dataDir,
      'member-dir': memberDir(config.dataDir),
      'force-new-cluster': config.forceNewCluster,
      'heartbeat-interval': goDuration(config.heartbeatIntervalMs),
      'election-timeout': goDuration(config.electionTimeoutMs),
      'snapshot-count': config.snapshotCount,
      'initial-advertise-peer-urls': config.initialAdvertisePeerUrls,
      'listen-peer-urls': config.listenPeerUrls,
      'advertise-client-urls': config.advertiseClientUrls,
      'listen-client-urls': config.listenClientUrls,
      'listen-metrics-urls': config.listenMetricsUrls,
      'initial-cluster': config.initialCluster,
      'initial-cluster-state': config.initialClusterState,
      'initial-cluster-token': config.initialClusterToken,
      'quota-backend-bytes': config.quotaBackendBytes > 0 ? config.quotaBackendBytes : 2 * 1024 ** 3,
      'max-request-bytes': config.maxRequestBytes,
    },
  });
  const capnslog: Array<[string, string]> = [
    ['name', config.name],
    ['data dir', config.dataDir],
    ['member dir', memberDir(config.dataDir)],
    ['heartbeat', `${config.heartbeatIntervalMs}ms`],
    ['election', `${config.electionTimeoutMs}ms`],
    ['snapshot count', String(config.snapshotCount)],
    ['advertise client URLs', config.advertiseClientUrls.join(',')],
  ];
  for (const [what, value] of capnslog) log.log('info', 'embed', { msg: `${what} = ${value}`, only: 'capnslog' });
}

/** etcd's lines once its ports listen. */
function logServing(config: EtcdServerConfig, log: EtcdLog, memberId: string): void {
  log.log('info', 'embed', {
    msg: 'now serving peer/client/metrics',
    caller: 'embed/etcd.go:247',
    only: 'zap',
    fields: {
      'local-member-id': memberId,
      'initial-advertise-peer-urls': config.initialAdvertisePeerUrls,
      'listen-peer-urls': config.listenPeerUrls,
      'advertise-client-urls': config.advertiseClientUrls,
      'listen-client-urls': config.listenClientUrls,
      'listen-metrics-urls': config.listenMetricsUrls,
    },
  });
  for (const url of config.listenMetricsUrls) {
    log.log('info', 'embed', { msg: 'serving metrics', caller: 'embed/etcd.go:789', only: 'zap', fields: { address: url } });
  }
  for (const url of config.listenPeerUrls) {
    const { host, port } = hostPortOf(url);
    const address = `${host}:${port}`;
    log.log('info', 'embed', { msg: 'serving peer traffic', text: `listening for peers on ${address}`, caller: 'embed/etcd.go:587', fields: { address } });
  }
}

/**
 * etcd 3.4's readiness lines, in the order and words of each logger: zap has no "ready to serve
 * client requests" (etcd prints it with capnslog only) and logs the client ports first.
 */
function logReady(config: EtcdServerConfig, log: EtcdLog, identity: MemberIdentity, secure: boolean): void {
  const clusterId = formatMemberId(identity.clusterId);
  const attributes = `{Name:${config.name} ClientURLs:[${config.advertiseClientUrls.join(' ')}]}`;
  const memberId = formatMemberId(identity.memberId);
  log.log('info', 'etcdserver', {
    msg: 'published local member to cluster through raft',
    text: `published ${attributes} to cluster ${clusterId}`,
    caller: 'etcdserver/server.go:2069',
    fields: {
      'local-member-id': memberId,
      'local-member-attributes': attributes,
      'request-path': `/0/members/${memberId}/attributes`,
      'cluster-id': clusterId,
      // etcd's publish timeout: its request timeout, 5 s plus two election timeouts.
      'publish-timeout': goDuration(5000 + 2 * config.electionTimeoutMs),
    },
  });
  const capabilities = (): void =>
    log.log('info', 'etcdserver/api', {
      msg: 'enabled capabilities for version',
      text: 'enabled capabilities for version 3.4',
      caller: 'api/capability.go:76',
      fields: { 'cluster-version': '3.4' },
    });
  if (log.format === 'capnslog') {
    capabilities();
    log.log('info', 'embed', { msg: 'ready to serve client requests' });
  }
  for (const url of config.listenClientUrls) {
    const { host, port } = hostPortOf(url);
    const address = `${host}:${port}`;
    log.log('info', 'embed', secure
      ? { msg: 'serving client traffic securely', text: `serving client requests on ${address}`, caller: 'embed/serve.go:201', notice: true, fields: { address } }
      : {
          msg: 'serving client traffic insecurely; this is strongly discouraged!',
          text: `serving insecure client requests on ${address}, this is strongly discouraged!`,
          caller: 'embed/serve.go:145',
          notice: true,
          fields: { address },
        });
  }
  if (log.format === 'zap') capabilities();
}

/** A duration as Go prints a time.Duration of whole milliseconds (`100ms`, `1s`, `1.5s`). */
function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return `${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${seconds}s`;
}
