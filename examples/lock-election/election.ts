/**
 * etcd's leader election (clientv3/concurrency's Election) on the embedded @pontoon/kv API.
 *
 * Candidates queue exactly as for the lock (mutex.ts): each puts `<name>/<lease id in hex>`
 * with its value under its session's lease, and the key with the smallest create revision is
 * the leader. A candidate is elected once every key created before its own is gone. A leader
 * that dies stops renewing its lease; when the lease expires its key is deleted and the next
 * candidate in line leads. Observers follow the oldest key of the prefix.
 */
import { prefixEnd, utf8, type KeyValue, type KvLease, type KvMember } from '@pontoon/kv';
import { PontoonError } from '@pontoon/raft';
import { waitDeletes } from './wait-deletes.js';

/** Thrown by proclaim() when this session no longer holds its leader key. */
export class NotLeaderError extends PontoonError {
  constructor(readonly election: string) {
    super('ELECTION_NOT_LEADER', `election ${election}: not the leader (etcd: "election: not leader")`);
  }
}

/** An election named `name`, joined through `member` with the session `session`. */
export class Election {
  private readonly prefix: Uint8Array;
  private readonly myKey: Uint8Array;
  /** The create revision of our key once campaigning (proclaim and resign check it). */
  private myRevision = 0;

  constructor(
    private readonly member: KvMember,
    private readonly session: KvLease,
    private readonly name: string,
  ) {
    this.prefix = utf8(`${name}/`);
    this.myKey = utf8(`${name}/${session.id.toString(16)}`);
  }

  /**
   * Puts this candidate in line with `value` and resolves once it leads. If `signal` aborts
   * first, the candidate leaves the line (resigns) and the promise rejects with the reason.
   */
  async campaign(value: string, signal?: AbortSignal): Promise<void> {
    const call = signal === undefined ? {} : { signal };
    const queued = await this.member.txn(
      {
        compare: [{ key: this.myKey, target: 'create', result: 'equal', createRevision: 0 }],
        success: [{ put: { key: this.myKey, value: utf8(value), lease: this.session.id } }],
        failure: [{ range: { key: this.myKey } }],
      },
      call,
    );
    this.myRevision = queued.header.revision;
    if (!queued.succeeded) {
      // This session campaigned before: keep its place in line, with the new value.
      const op = queued.responses[0];
      const mine = op !== undefined && 'range' in op ? op.range.kvs[0] : undefined;
      if (mine === undefined) throw new Error(`election ${this.name}: our key vanished between compare and read`);
      this.myRevision = mine.createRevision;
      if (Buffer.from(mine.value).toString() !== value) await this.proclaim(value);
    }
    try {
      await waitDeletes(this.member, this.prefix, this.myRevision - 1, signal);
    } catch (err) {
      if (signal?.aborted === true) await this.resign().catch(() => undefined);
      throw err;
    }
  }

  /** Changes the leader's value, only while this session still holds its key. */
  async proclaim(value: string): Promise<void> {
    const response = await this.member.txn({
      compare: [{ key: this.myKey, target: 'create', result: 'equal', createRevision: this.myRevision }],
      success: [{ put: { key: this.myKey, value: utf8(value), lease: this.session.id } }],
      failure: [],
    });
    if (!response.succeeded) throw new NotLeaderError(this.name);
  }

  /** Leaves the election: the next candidate in line leads. */
  async resign(): Promise<void> {
    if (this.myRevision === 0) return;
    await this.member.txn({
      compare: [{ key: this.myKey, target: 'create', result: 'equal', createRevision: this.myRevision }],
      success: [{ deleteRange: { key: this.myKey } }],
      failure: [],
    });
    this.myRevision = 0;
  }
}

/** The current leader's key and value, or undefined when nobody campaigns. */
export async function electionLeader(member: KvMember, name: string, signal?: AbortSignal): Promise<KeyValue | undefined> {
  const prefix = utf8(`${name}/`);
  const oldest = await member.range(
    { key: prefix, rangeEnd: prefixEnd(prefix), sortTarget: 'create', sortOrder: 'ascend', limit: 1 },
    signal === undefined ? {} : { signal },
  );
  return oldest.kvs[0];
}

/**
 * etcd's Election.Observe: yields the leader's key-value now (once there is one), then every
 * value it proclaims, then, once its key is deleted, the next leader's, until `signal` aborts.
 */
export async function* observeElection(member: KvMember, name: string, signal: AbortSignal): AsyncGenerator<KeyValue> {
  const prefix = utf8(`${name}/`);
  while (!signal.aborted) {
    const oldest = await member.range({ key: prefix, rangeEnd: prefixEnd(prefix), sortTarget: 'create', sortOrder: 'ascend', limit: 1 }, { signal });
    let leader = oldest.kvs[0];
    let seenAt = oldest.header.revision;
    if (leader === undefined) {
      // Nobody campaigns: the first put under the prefix is the next leader.
      for await (const response of member.watch(prefix, { prefix: true, startRevision: seenAt + 1, filters: { noDelete: true }, signal })) {
        leader = response.events[0]?.kv;
        if (leader !== undefined || response.canceled) break;
      }
      if (leader === undefined) continue;
      seenAt = leader.modRevision;
    }
    yield leader;
    for await (const response of member.watch(leader.key, { startRevision: seenAt + 1, signal })) {
      if (response.canceled) break;
      const deleted = response.events.some((e) => e.type === 'delete');
      for (const event of response.events) if (event.type === 'put') yield event.kv;
      if (deleted) break;
    }
  }
}
