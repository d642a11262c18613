/**
 * etcd's distributed lock (clientv3/concurrency's Mutex) on the embedded @pontoon/kv API.
 *
 * Each contender puts `<name>/<lease id in hex>` under its session's lease, in one transaction
 * that also reads the oldest key of the prefix. The key with the smallest create revision holds
 * the lock; the others queue in create-revision order, each waiting for its predecessor's key
 * to be deleted (by unlock, or by the lease expiring when its holder died). The holder's create
 * revision is the fencing token.
 */
import { prefixEnd, utf8, type KvLease, type KvMember, type RangeResponse, type ResponseOp } from '@pontoon/kv';
import type { DistributedLock } from './lock-interfaces.js';
import { waitDeletes } from './wait-deletes.js';

/** A lock named `name`, taken through `member` with the session `session` (a lease kept alive). */
export class Mutex implements DistributedLock {
  private readonly prefix: Uint8Array;
  private readonly myKey: Uint8Array;
  private held = false;

  constructor(
    private readonly member: KvMember,
    private readonly session: KvLease,
    name: string,
  ) {
    this.prefix = utf8(`${name}/`);
    this.myKey = utf8(`${name}/${session.id.toString(16)}`);
  }

  /** The key this session holds or queues with. */
  get key(): string {
    return Buffer.from(this.myKey).toString();
  }

  /**
   * Queues for the lock and resolves once held, with the fencing token (the create revision of
   * this session's key). If the wait fails or `signal` aborts, the key is deleted again so that
   * the queue does not stall behind a contender that left.
   */
  async lock(signal?: AbortSignal): Promise<number> {
    const call = signal === undefined ? {} : { signal };
    const oldest = { range: { key: this.prefix, rangeEnd: prefixEnd(this.prefix), sortTarget: 'create' as const, sortOrder: 'ascend' as const, limit: 1 } };
    const queued = await this.member.txn(
      {
        // Create our key unless this session already has one (a retried lock keeps its place).
        compare: [{ key: this.myKey, target: 'create', result: 'equal', createRevision: 0 }],
        success: [{ put: { key: this.myKey, value: new Uint8Array(0), lease: this.session.id } }, oldest],
        failure: [{ range: { key: this.myKey } }, oldest],
      },
      call,
    );
    const myRevision = queued.succeeded ? queued.header.revision : rangeOf(queued.responses[0]).kvs[0]!.createRevision;
    const holder = rangeOf(queued.responses[1]).kvs[0];
    if (holder === undefined || holder.createRevision === myRevision) {
      this.held = true;
      return myRevision;
    }
    try {
      await waitDeletes(this.member, this.prefix, myRevision - 1, signal);
    } catch (err) {
      await this.member.deleteRange({ key: this.myKey }).catch(() => undefined);
      throw err;
    }
    this.held = true;
    return myRevision;
  }

  /** Deletes this session's key: the next contender in the queue takes the lock. */
  async unlock(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await this.member.deleteRange({ key: this.myKey });
  }
}

function rangeOf(op: ResponseOp | undefined): RangeResponse {
  if (op !== undefined && 'range' in op) return op.range;
  throw new Error(`expected a range response in the lock's txn, got ${JSON.stringify(op)}`);
}
