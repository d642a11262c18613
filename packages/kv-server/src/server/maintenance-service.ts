/**
 * etcd's Maintenance service (v3rpc/maintenance.go) on one member: Status, Alarm, HashKV, Hash,
 * Defragment, MoveLeader and Snapshot. Snapshot streams a consistent copy of the store as
 * etcd's backend file (member/etcd-snapshot.ts: a bbolt database etcd's tools read) in 32 KiB
 * chunks followed by the SHA-256 of what was sent, as etcd does, so that `etcdctl snapshot save`
 * writes a file whose size is 32 bytes past a multiple of 512 (bbolt's pages) and whose hash
 * checks.
 */
import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { EtcdError } from '../etcd-errors.js';
import { openEtcdSnapshot } from '../member/etcd-snapshot.js';
import type { MaintenanceHandlers } from '../proto-types/etcdserverpb/Maintenance.js';
import type { SnapshotRequest__Output } from '../proto-types/etcdserverpb/SnapshotRequest.js';
import type { SnapshotResponse } from '../proto-types/etcdserverpb/SnapshotResponse.js';
import type { AlarmMember } from './alarms.js';
import { type ServerContext, streamAllowed, unary } from './call-context.js';
import { etcdIdOf } from './etcd-ids.js';
import { toGrpcStatus } from './grpc-status.js';
import { int, wireHeader } from './wire.js';

/** The etcd version pontoon-kv speaks (its protos are 3.4.23's). */
export const ETCD_VERSION = '3.4.23';
const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

export function maintenanceService(ctx: ServerContext): MaintenanceHandlers {
  const { member, header } = ctx;
  const now = () => wireHeader(header, { revision: member.revision, raftTerm: member.raft.term });
  return {
    Status: unary(ctx, 'Status', async () => {
      const s = member.raft.status();
      const size = member.dbSizeBytes();
      const errors: string[] = [];
      if (s.leaderId === undefined) errors.push('etcdserver: no leader');
      // etcd prints each alarm with protobuf's text form.
      for (const a of ctx.alarms.list()) errors.push(`memberID:${a.memberID} alarm:${a.alarm} `);
      return {
        header: now(),
        version: ETCD_VERSION,
        dbSize: size,
        leader: s.leaderId === undefined ? 0 : etcdIdOf(ctx.ids, s.leaderId).toString(),
        raftIndex: s.commitIndex,
        raftTerm: s.term,
        raftAppliedIndex: s.appliedIndex,
        errors,
        dbSizeInUse: size,
        isLearner: member.raft.membership().learners.includes(member.id),
      };
    }),
    // As etcd 3.4's: GET lists the alarms of the type asked (NONE: all), ACTIVATE and DEACTIVATE
    // answer with the alarm they changed; the response carries no header.
    Alarm: unary(ctx, 'Alarm', async (r, signal) => {
      const wire = (a: AlarmMember) => ({ memberID: a.memberID.toString(), alarm: a.alarm });
      const type = String(r.alarm);
      if (r.action === 'GET') return { alarms: ctx.alarms.list().filter((a) => type === 'NONE' || a.alarm === type).map(wire) };
      if (type !== 'NOSPACE' && type !== 'CORRUPT') return { alarms: [] };
      const target: AlarmMember = { memberID: BigInt(r.memberID), alarm: type };
      if (r.action === 'ACTIVATE') {
        await ctx.alarms.activate(target, signal);
        return { alarms: [wire(target)] };
      }
      const active = ctx.alarms.list().some((a) => a.memberID === target.memberID && a.alarm === target.alarm);
      if (!active) return { alarms: [] };
      await ctx.alarms.deactivate(target, signal);
      return { alarms: [wire(target)] };
    }),
    HashKV: unary(ctx, 'HashKV', async (r) => {
      const res = member.hashKV(int('hashkv.revision', r.revision));
      return { header: wireHeader(header, res.header), hash: res.hash, compact_revision: res.compactRevision };
    }),
    Hash: unary(ctx, 'Hash', async () => ({ header: now(), hash: member.hashKV(0).hash })),
    // etcd 3.4 answers Defragment and MoveLeader with no header at all.
    Defragment: unary(ctx, 'Defragment', async () => {
      member.defragment();
      return {};
    }),
    MoveLeader: unary(ctx, 'MoveLeader', async (r, signal) => {
      if (!member.isLeader) throw new EtcdError('NotLeader');
      const target = BigInt(r.targetID);
      const record = ctx.ids.members().find((m) => m.id === target);
      const voters = member.raft.membership().voters;
      if (record === undefined || !voters.includes(record.raftId)) throw new EtcdError('BadLeaderTransferee');
      if (record.raftId !== member.id) await member.raft.transferLeadership(record.raftId, { signal });
      return {};
    }),
    Snapshot: (call) => void snapshot(ctx, call),
  };
}

async function snapshot(ctx: ServerContext, call: grpc.ServerWritableStream<SnapshotRequest__Output, SnapshotResponse>): Promise<void> {
  if (!streamAllowed(ctx, 'Snapshot', call)) return;
  let cancelled = false;
  call.once('cancelled', () => (cancelled = true));
  let source;
  try {
    source = await openEtcdSnapshot(ctx.member);
  } catch (err) {
    call.emit('error', toGrpcStatus(err));
    return;
  }
  const sha = createHash('sha256');
  try {
    let remaining = source.bytes;
    for await (const chunk of source.chunks()) {
      for (let off = 0; off < chunk.length; off += SNAPSHOT_CHUNK_BYTES) {
        if (cancelled || ctx.closed.aborted) return;
        const blob = Buffer.from(chunk.subarray(off, off + SNAPSHOT_CHUNK_BYTES));
        sha.update(blob);
        remaining -= blob.length;
        // Wait for the client to read: memory stays one chunk per stream.
        if (!call.write({ remaining_bytes: remaining, blob })) await drained(call);
      }
    }
    // etcd 3.4 sends its snapshot chunks without a header.
    call.write({ remaining_bytes: 0, blob: sha.digest() });
    call.end();
  } catch (err) {
    if (!cancelled) call.emit('error', toGrpcStatus(err));
  } finally {
    await source.close();
  }
}

function drained(call: grpc.ServerWritableStream<SnapshotRequest__Output, SnapshotResponse>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.removeListener('drain', done);
      call.removeListener('cancelled', done);
      call.removeListener('close', done);
      resolve();
    };
    call.once('drain', done);
    call.once('cancelled', done);
    call.once('close', done);
  });
}
