/**
 * KvStateMachine as RaftNode's OnDiskStateMachine, with what a member must learn from the
 * entries it applies: lease grants and revokes (for the lessor, which keeps expiry apart from
 * the store), the new leader's empty entry (etcd promotes the lessor when the leader applies it:
 * every entry of earlier terms is applied by then), and snapshots installed (the lessor starts
 * again from the store's leases).
 */
import type { Entry, LogPosition, OnDiskStateMachine, SnapshotSink, SnapshotSource } from '@pontoon/raft';
import { EntryType } from '@pontoon/raft';
import { decodeCommand } from './command.js';
import type { KvApplyResult, KvStateMachine } from './kv-state-machine.js';

export interface AppliedHooks {
  leaseGranted(id: bigint, ttl: number): void;
  leaseRevoked(id: bigint): void;
  /** An entry without a command of term `term` was applied (a new leader's first entry). */
  emptyEntryApplied(term: number): void;
  snapshotInstalled(): void;
}

export class MemberStateMachine implements OnDiskStateMachine<KvApplyResult> {
  constructor(
    readonly kv: KvStateMachine,
    private readonly hooks: AppliedHooks,
  ) {}

  position(): LogPosition {
    return this.kv.position();
  }

  applyBatch(entries: readonly Readonly<Entry>[]): KvApplyResult[] {
    const results = this.kv.applyBatch(entries);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.type !== EntryType.EntryNormal) continue;
      if (e.data.length === 0) {
        this.hooks.emptyEntryApplied(e.term);
        continue;
      }
      const r = results[i];
      if (r === undefined || !r.ok) continue;
      if ('id' in r.response && 'ttl' in r.response) {
        this.hooks.leaseGranted(r.response.id, r.response.ttl);
        continue;
      }
      // A revoke's response is a bare header, like a compaction's: the command tells them apart.
      if (Object.keys(r.response).length === 1) {
        const command = decodeCommand(e.data);
        if (command.op === 'leaseRevoke') this.hooks.leaseRevoked(command.request.id);
      }
    }
    return results;
  }

  sync(): void {
    this.kv.sync();
  }

  openSnapshot(): Promise<SnapshotSource> {
    return this.kv.openSnapshot();
  }

  receiveSnapshot(snapshot: LogPosition): Promise<SnapshotSink> {
    return this.kv.receiveSnapshot(snapshot);
  }

  async installSnapshot(snapshotIndex: number): Promise<LogPosition> {
    const position = await this.kv.installSnapshot(snapshotIndex);
    this.hooks.snapshotInstalled();
    return position;
  }
}
