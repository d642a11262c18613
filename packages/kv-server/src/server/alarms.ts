/**
 * etcd's alarms (etcdserver/api/v3alarm), replicated in the KvMember's cluster metadata under
 * `etcd/alarm/<member id hex>/<type>`. The quota raises NOSPACE as etcd's quota check does:
 * a write refused for space raises the alarm for the member that served it, and while any
 * NOSPACE alarm is active every member refuses puts, txns with puts and lease grants with
 * "database space exceeded" (etcd's capped applier) until an operator disarms it (after
 * compacting and defragmenting).
 */
import type { KvMember } from '@pontoon/kv';

export type AlarmType = 'NOSPACE' | 'CORRUPT';

export interface AlarmMember {
  memberID: bigint;
  alarm: AlarmType;
}

const PREFIX = 'etcd/alarm/';

export class Alarms {
  constructor(private readonly member: KvMember) {}

  /**
   * The active alarms, as this member has applied them. Every put, txn with puts and lease grant
   * asks (noSpace): the cluster metadata is read from the store's cache, which only applying a
   * metadata change or installing a snapshot renews (KvStateMachine.clusterMeta()).
   */
  list(): AlarmMember[] {
    const out: AlarmMember[] = [];
    for (const name of this.member.clusterMeta().keys()) {
      if (!name.startsWith(PREFIX)) continue;
      const [hex, alarm] = name.slice(PREFIX.length).split('/');
      out.push({ memberID: BigInt(`0x${hex}`), alarm: alarm as AlarmType });
    }
    return out;
  }

  /** Whether space alarms cap writes now. */
  get noSpace(): boolean {
    return this.list().some((a) => a.alarm === 'NOSPACE');
  }

  async activate(a: AlarmMember, signal?: AbortSignal): Promise<void> {
    await this.member.setClusterMeta(key(a), Uint8Array.of(1), signal === undefined ? {} : { signal });
  }

  async deactivate(a: AlarmMember, signal?: AbortSignal): Promise<void> {
    await this.member.setClusterMeta(key(a), undefined, signal === undefined ? {} : { signal });
  }
}

function key(a: AlarmMember): string {
  return `${PREFIX}${a.memberID.toString(16)}/${a.alarm}`;
}
