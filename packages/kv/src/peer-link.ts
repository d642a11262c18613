/**
 * How a member asks the leader for what only the leader can do and the Raft log does not carry:
 * renew a lease (a keepalive changes no replicated state: the leader's lessor keeps expiry in
 * memory) and tell a lease's remaining time. etcd's followers do the same over their peer URLs
 * (`/leases` and `/leases/internal`). Writes do not use it: RaftNode forwards proposals.
 *
 * The link is an interface so that a server can carry it over its own peer protocol; this file
 * has the in-process one (members of one process, as in tests and the README's example).
 */
import { PontoonError, type MembershipChange } from '@pontoon/raft';

/** What a member asks the leader. */
export type PeerRequest =
  | { kind: 'leaseRenew'; id: bigint }
  | { kind: 'leaseTimeToLive'; id: bigint; keys: boolean }
  | { kind: 'changeMembership'; changes: MembershipChange[] };

/** The leader's answers, by request kind. */
export interface PeerResponses {
  /** The granted TTL, in seconds. */
  leaseRenew: { ttl: number };
  /** `ttl` -1 when the lease is not granted (etcd's answer for an expired or unknown lease). */
  leaseTimeToLive: { ttl: number; grantedTtl: number; keys: Uint8Array[] };
  /** The leader's applied index once the change applied there. */
  changeMembership: { appliedIndex: number };
}

export type PeerResponse<K extends PeerRequest['kind'] = PeerRequest['kind']> = PeerResponses[K];

/** Serves a peer's request on this member; rejects with the error the caller should see. */
export type PeerHandler = (request: PeerRequest, signal: AbortSignal | undefined) => Promise<PeerResponse>;

/** A member's end of the link. */
export interface KvPeerLink {
  /** Registers this member's handler for its peers' requests. */
  serve(handler: PeerHandler): void;
  /**
   * Sends `request` to member `to`. Rejects with PeerUnreachableError when the member cannot be
   * reached, or with what its handler rejected with.
   */
  call<R extends PeerRequest>(to: number, request: R, signal?: AbortSignal): Promise<PeerResponse<R['kind']>>;
  /** Stops serving. */
  close(): void;
}

/** The member asked is not reachable over the link (down, partitioned, not on the link). */
export class PeerUnreachableError extends PontoonError {
  readonly peerId: number;
  constructor(peerId: number) {
    super('ERR_PEER_UNREACHABLE', `member ${peerId} is not reachable`);
    this.peerId = peerId;
  }
}

/**
 * The in-process link: the members of one process, by id. Requests are delivered on a later
 * turn of the event loop, as over a network. Partitions mirror MemoryNetwork's, so that a test
 * cuts the Raft transport and this link alike.
 */
export class LocalPeerNetwork {
  private readonly handlers = new Map<number, PeerHandler>();
  private groups: number[][] | undefined;

  /** The link of member `id`. */
  link(id: number): KvPeerLink {
    return {
      serve: (handler) => {
        this.handlers.set(id, handler);
      },
      call: async <R extends PeerRequest>(to: number, request: R, signal?: AbortSignal) => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        signal?.throwIfAborted();
        const handler = this.handlers.get(to);
        if (handler === undefined || !this.connected(id, to)) throw new PeerUnreachableError(to);
        return (await handler(request, signal)) as PeerResponse<R['kind']>;
      },
      close: () => {
        this.handlers.delete(id);
      },
    };
  }

  /** Only members in the same group reach one another (until heal()). */
  partition(...groups: number[][]): void {
    this.groups = groups.map((g) => g.slice());
  }

  heal(): void {
    this.groups = undefined;
  }

  private connected(from: number, to: number): boolean {
    if (from === to || this.groups === undefined) return true;
    return this.groups.some((g) => g.includes(from) && g.includes(to));
  }
}
