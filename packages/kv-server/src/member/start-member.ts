/**
 * Starts the replicated member a `pontoon-kv` process runs: its identity (new cluster, join, or
 * restart), the Raft transport and peer link on the peer URL, and the KvMember with etcd's
 * flags mapped onto its options.
 */
import { forceNewCluster, type Member, type RaftMetrics, type Transport } from '@pontoon/raft';
import { KvMember, KvStateMachine, openKvMember } from '@pontoon/kv';
import { SqliteLogStore } from '@pontoon/storage-sqlite';
import { TcpTransport } from '@pontoon/transport-tcp';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifyBootstrap } from '../cli/bootstrap-check.js';
import type { EtcdServerConfig } from '../cli/server-config.js';
import { checkDataDirIdentity } from '../data-dir-identity.js';
import { CommandLineError } from '../errors.js';
import { computeMemberId, formatMemberId } from '../member-id.js';
import type { EtcdLog } from './etcd-log.js';
import { addressText, hostPortOf } from './member-directory.js';
import { ReplicatedEtcdIds, raftIdOfMemberId as raftIdOf, type EtcdMemberRecord } from '../server/etcd-ids.js';
import { ownProgress, type LeaderProgressSource } from '../server/learner-readiness.js';
import type { ContactViewSource } from '../server/contact-view.js';
import { LeaderContact } from './leader-contact.js';
import { peerLeaderProgress } from './leader-progress.js';
import { peerContactView } from './peer-contact-view.js';
import { memberDir, readMemberIdentity, writeMemberIdentity, type MemberIdentity } from './member-identity.js';
import { PeerDialer, PeerPort, TcpPeerLink, type PeerTls, type PublishedAttributes } from './peer-port.js';
import type { TlsMaterial } from './tls-material.js';

/** A running member and what it needs to be stopped. */
export interface StartedMember {
  readonly member: KvMember;
  /** The cluster's members table (replicated through the log; MemberAdd and publishing write it). */
  readonly ids: ReplicatedEtcdIds;
  readonly identity: MemberIdentity;
  /** Whether the data directory existed (a restart) rather than being bootstrapped now. */
  readonly restarted: boolean;
  /** This member's record, as it publishes it (name and client URLs). */
  readonly self: EtcdMemberRecord;
  /** The leader's replication progress, asked of the leader when this member does not lead. */
  readonly leaderProgress: LeaderProgressSource;
  /** The strict reconfiguration check's view of which members are up (the leader's). */
  readonly contactView: ContactViewSource;
  close(): Promise<void>;
}

/** How long a joining member keeps asking the cluster for its place before giving up. */
const JOIN_DISCOVERY_MS = 30_000;

export async function startMember(
  config: EtcdServerConfig,
  log: EtcdLog,
  peerTlsMaterial: TlsMaterial | undefined,
  metrics?: RaftMetrics,
): Promise<StartedMember> {
  const peerTls: PeerTls | undefined =
    peerTlsMaterial === undefined
      ? undefined
      : {
          cert: peerTlsMaterial.cert,
          key: peerTlsMaterial.key,
          ...(peerTlsMaterial.ca === undefined ? {} : { ca: peerTlsMaterial.ca }),
          clientCertAuth: peerTlsMaterial.clientCertAuth,
          insecureSkipVerify: peerTlsMaterial.selfSigned || peerTlsMaterial.ca === undefined,
        };
  const stored = await readMemberIdentity(config.dataDir);
  const advertised = [...config.initialAdvertisePeerUrls];
  let identity: MemberIdentity;
  let initialMembers: Member[] | undefined;
  let joining = false;
  /** The members a joining member learned of: its transport must know them before the leader calls. */
  let knownPeers: ReadonlyArray<{ raftId: number; address: string }> = [];
  if (stored !== undefined) {
    checkDataDirIdentity(stored, { dataDir: config.dataDir, name: config.name, initialClusterToken: config.initialClusterToken });
    identity = stored;
    // A data directory made by `snapshot restore` has the store but no Raft log yet: the member
    // bootstraps the restored cluster's membership, as a new member would.
    if (!existsSync(join(memberDir(config.dataDir), 'raft'))) {
      initialMembers = stored.initialMembers.map((m) => ({ id: raftIdOf(m.id), address: peerAddress(m.peerURLs) }));
    }
    log.info('etcdserver', 'restarting local member', {
      'local-member-id': formatMemberId(stored.memberId),
      'cluster-id': formatMemberId(stored.clusterId),
    });
  } else if (config.initialClusterState === 'new') {
    const ids = verifyBootstrap({ ...config, initialAdvertisePeerUrls: advertised });
    const self = ids.members.find((m) => m.name === config.name)!;
    identity = {
      name: config.name,
      memberId: self.id,
      clusterId: ids.clusterId,
      clusterToken: config.initialClusterToken,
      raftId: raftIdOf(self.id),
      peerURLs: self.peerUrls,
      initialMembers: ids.members.map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerUrls })),
    };
    initialMembers = ids.members.map((m) => ({ id: raftIdOf(m.id), address: peerAddress(m.peerUrls) }));
  } else {
    const place = await discoverPlace(config, advertised, peerTls, log);
    identity = place.identity;
    knownPeers = place.peers.filter((p) => p.raftId !== place.identity.raftId);
    joining = true;
  }

  const initialRecords: EtcdMemberRecord[] = identity.initialMembers.map((m) => ({
    id: m.id,
    raftId: raftIdOf(m.id),
    name: m.id === identity.memberId ? config.name : m.name,
    peerURLs: m.peerURLs,
    clientURLs: m.id === identity.memberId ? config.advertiseClientUrls : [],
  }));
  const self: EtcdMemberRecord = {
    id: identity.memberId,
    raftId: identity.raftId,
    name: config.name,
    peerURLs: identity.peerURLs,
    clientURLs: config.advertiseClientUrls,
  };
  let ids: ReplicatedEtcdIds | undefined;

  const transportLog = log.logger('rafthttp');
  const tcp = new TcpTransport({
    id: identity.raftId,
    clusterId: formatMemberId(identity.clusterId),
    listen: { host: '127.0.0.1', port: 0 },
    logger: transportLog,
  });
  const attributes = (): PublishedAttributes => {
    const m = member?.raft.membership();
    return {
      clusterId: identity.clusterId,
      raftMembers: m === undefined ? [] : [...m.addresses].map(([raftId, address]) => {
        const etcdId = ids?.members().find((r) => r.raftId === raftId)?.id;
        return { raftId, address, ...(etcdId === undefined ? {} : { etcdId }) };
      }),
      id: identity.memberId,
      name: config.name,
      peerURLs: identity.peerURLs,
      clientURLs: config.advertiseClientUrls,
    };
  };
  const ports = config.listenPeerUrls.map((u) => {
    const { host, port } = hostPortOf(u);
    return new PeerPort({ host, port, transport: tcp, ...(peerTls === undefined ? {} : { tls: peerTls }), logger: transportLog, attributes, progress: () => (member === undefined ? undefined : ownProgress(member)), leaderContact: () => leaderContact?.ms() });
  });
  let member: KvMember | undefined;
  let leaderContact: LeaderContact | undefined;
  const dialer = peerTls === undefined ? undefined : new PeerDialer(peerTls);
  const closeAll = async (): Promise<void> => {
    await Promise.all(ports.map((p) => p.close()));
    dialer?.close();
    await tcp.close();
  };
  try {
    for (const p of ports) await p.listen();
    const addressOf = (raftId: number): string | undefined => member?.raft.membership().addresses.get(raftId) ?? initialMembers?.find((m) => m.id === raftId)?.address;
    const link = new TcpPeerLink(ports, addressOf, peerTls);
    const transport: Transport = dialer === undefined ? tcp : tlsDialingTransport(tcp, dialer);
    for (const p of knownPeers) transport.addPeer(p.raftId, p.address);

    const dir = memberDir(config.dataDir);
    const tickMs = config.heartbeatIntervalMs;
    // etcd's election timeout is a whole number of heartbeat ticks (ElectionTicks = election / tick).
    const electionTicks = Math.max(2, Math.floor(config.electionTimeoutMs / tickMs));
    let logStore: SqliteLogStore | undefined;
    if (config.forceNewCluster && stored !== undefined) {
      logStore = await SqliteLogStore.open(join(dir, 'raft'));
      const kv = await KvStateMachine.open(join(dir, 'kv.db'));
      const appliedIndex = kv.position().index;
      kv.close();
      const result = await forceNewCluster(logStore, { id: identity.raftId, address: peerAddress(identity.peerURLs), appliedIndex });
      log.warn('etcdserver', 'forcing restart member', {
        'removed-members': result.removed.map(String),
        'discarded-entries': result.discarded,
      });
    }
    member = await openKvMember({
      id: identity.raftId,
      dataDir: dir,
      transport,
      peers: link,
      ...(initialMembers === undefined ? {} : { initialMembers }),
      ...(joining ? { join: true } : {}),
      ...(logStore === undefined ? {} : { logStore }),
      raft: {
        tickMs,
        electionTicks,
        heartbeatTicks: 1,
        snapshot: { everyEntries: Math.max(1, config.snapshotCount) },
        logger: log.logger('raft'),
        ...(metrics === undefined ? {} : { metrics }),
      },
      store: {
        maxTxnOps: config.maxTxnOps,
        maxRequestBytes: config.maxRequestBytes,
        // etcd: 0 (or less) leaves its defaults, which are @pontoon/kv's too (100 ms, 10,000).
        ...(config.backendBatchIntervalMs > 0 ? { batchIntervalMs: config.backendBatchIntervalMs } : {}),
        ...(config.backendBatchLimit > 0 ? { batchLimit: config.backendBatchLimit } : {}),
        // etcd: 0 is the default quota, a negative value disables it.
        ...(config.quotaBackendBytes > 0 ? { quotaBytes: config.quotaBackendBytes } : {}),
        ...(config.quotaBackendBytes < 0 ? { quotaBytes: Number.MAX_SAFE_INTEGER } : {}),
      },
    });
    const started = member;
    leaderContact = new LeaderContact(started, config.electionTimeoutMs);
    if (stored === undefined) await writeMemberIdentity(config.dataDir, identity);
    ids = new ReplicatedEtcdIds(started, identity.clusterId, initialRecords);
    return {
      member: started,
      ids,
      identity,
      self,
      leaderProgress: peerLeaderProgress(started, link, addressOf, tickMs),
      contactView: peerContactView(started, link, addressOf, leaderContact),
      restarted: stored !== undefined,
      close: async () => {
        leaderContact?.close();
        await started.close();
        await closeAll();
      },
    };
  } catch (err) {
    await member?.close().catch(() => undefined);
    await closeAll();
    throw err;
  }
}

/** Where peers dial a member: the first of its peer URLs. */
function peerAddress(peerUrls: readonly string[]): string {
  const { host, port } = hostPortOf(peerUrls[0]!);
  return addressText(host, port);
}

/**
 * A joining member (`--initial-cluster-state existing`) finds its place: it asks the members
 * named in `--initial-cluster` for the cluster, and finds itself among the Raft members by its
 * advertised peer address (a member is added with `etcdctl member add` before it starts, as
 * with etcd).
 */
async function discoverPlace(
  config: EtcdServerConfig,
  advertised: readonly string[],
  peerTls: PeerTls | undefined,
  log: EtcdLog,
): Promise<{ identity: MemberIdentity; peers: ReadonlyArray<{ raftId: number; address: string }> }> {
  const own = peerAddress(advertised);
  const others: string[] = [];
  for (const part of config.initialCluster.split(',')) {
    const [name, url] = [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)];
    if (name === config.name || url === undefined || url === '') continue;
    others.push(peerAddress([url]));
  }
  if (others.length === 0) {
    throw new CommandLineError('--initial-cluster-state existing needs the other members in --initial-cluster', '--initial-cluster');
  }
  const probe = new TcpPeerLink([], () => undefined, peerTls);
  const deadline = Date.now() + JOIN_DISCOVERY_MS;
  for (;;) {
    for (const address of others) {
      const attrs = await probe.attributesAt(address, AbortSignal.timeout(3000));
      if (attrs === undefined) continue;
      const self = attrs.raftMembers.find((m) => m.address === own);
      if (self === undefined) {
        throw new CommandLineError(
          `member with peer URL ${advertised.join(',')} is not in the cluster (cluster ${formatMemberId(attrs.clusterId)}): add it first (etcdctl member add)`,
          '--initial-cluster-state',
        );
      }
      const memberId = self.etcdId ?? computeMemberId(advertised, '');
      log.info('etcdserver', 'joining existing cluster', { 'local-member-id': formatMemberId(memberId), 'cluster-id': formatMemberId(attrs.clusterId) });
      const identity: MemberIdentity = {
        name: config.name,
        memberId,
        clusterId: attrs.clusterId,
        clusterToken: config.initialClusterToken,
        raftId: self.raftId,
        peerURLs: advertised,
        initialMembers: [],
      };
      return { identity, peers: attrs.raftMembers };
    }
    if (Date.now() > deadline) {
      throw new CommandLineError(`cannot fetch cluster info from peer urls ${others.join(',')}`, '--initial-cluster');
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * The TcpTransport with peer TLS: it dials loopback forwarders that carry its connections to
 * the other members over TLS.
 */
function tlsDialingTransport(tcp: TcpTransport, dialer: PeerDialer): Transport {
  return {
    send: (m) => tcp.send(m),
    onMessage: (h) => tcp.onMessage(h),
    onUnreachable: (h) => tcp.onUnreachable(h),
    onSnapshotStatus: (h) => tcp.onSnapshotStatus(h),
    addPeer: (peerId, address) => {
      void dialer.forward(peerId, address).then((local) => tcp.addPeer(peerId, local));
    },
    removePeer: (peerId) => {
      dialer.remove(peerId);
      tcp.removePeer(peerId);
    },
    close: () => tcp.close(),
    sendSnapshot: (m, s) => tcp.sendSnapshot(m, s),
    onSnapshotStream: (h) => tcp.onSnapshotStream(h),
    listen: () => tcp.listen(),
  };
}
