import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MethodDefinition } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { loadEtcdProtos } from '../src/etcd-protos.js';
import { generateProtoTypes } from '../scripts/gen-proto-types.js';

/**
 * etcd 3.4's gRPC surface (etcd's API reference for 3.4, and `rpc.proto`, `v3lock.proto`,
 * `v3election.proto` at v3.4.23, grpc-go's health.proto): service path, method names and which
 * side streams. Written out by hand so that a wrong or missing vendored file fails here.
 */
const ETCD_34_METHODS: Record<string, Record<string, 'unary' | 'server-stream' | 'bidi'>> = {
  '/etcdserverpb.KV': { Range: 'unary', Put: 'unary', DeleteRange: 'unary', Txn: 'unary', Compact: 'unary' },
  '/etcdserverpb.Watch': { Watch: 'bidi' },
  '/etcdserverpb.Lease': {
    LeaseGrant: 'unary',
    LeaseRevoke: 'unary',
    LeaseKeepAlive: 'bidi',
    LeaseTimeToLive: 'unary',
    LeaseLeases: 'unary',
  },
  '/etcdserverpb.Cluster': {
    MemberAdd: 'unary',
    MemberRemove: 'unary',
    MemberUpdate: 'unary',
    MemberList: 'unary',
    MemberPromote: 'unary',
  },
  '/etcdserverpb.Maintenance': {
    Alarm: 'unary',
    Status: 'unary',
    Defragment: 'unary',
    Hash: 'unary',
    HashKV: 'unary',
    Snapshot: 'server-stream',
    MoveLeader: 'unary',
  },
  '/etcdserverpb.Auth': {
    AuthEnable: 'unary',
    AuthDisable: 'unary',
    Authenticate: 'unary',
    UserAdd: 'unary',
    UserGet: 'unary',
    UserList: 'unary',
    UserDelete: 'unary',
    UserChangePassword: 'unary',
    UserGrantRole: 'unary',
    UserRevokeRole: 'unary',
    RoleAdd: 'unary',
    RoleGet: 'unary',
    RoleList: 'unary',
    RoleDelete: 'unary',
    RoleGrantPermission: 'unary',
    RoleRevokePermission: 'unary',
  },
  '/v3lockpb.Lock': { Lock: 'unary', Unlock: 'unary' },
  '/v3electionpb.Election': {
    Campaign: 'unary',
    Proclaim: 'unary',
    Leader: 'unary',
    Observe: 'server-stream',
    Resign: 'unary',
  },
  '/grpc.health.v1.Health': { Check: 'unary', Watch: 'server-stream' },
};

function kind(m: MethodDefinition<object, object>): string {
  if (m.requestStream && m.responseStream) return 'bidi';
  if (m.responseStream) return 'server-stream';
  if (m.requestStream) return 'client-stream';
  return 'unary';
}

describe('loadEtcdProtos', () => {
  it('loads every service and method of etcd 3.4 with its path and streaming kind, and nothing else', () => {
    const { services } = loadEtcdProtos();
    const loaded: Record<string, Record<string, string>> = {};
    for (const definition of Object.values(services)) {
      for (const [name, method] of Object.entries(definition as Record<string, MethodDefinition<object, object>>)) {
        const servicePath = method.path.slice(0, method.path.lastIndexOf('/'));
        expect(method.path).toBe(`${servicePath}/${name}`);
        (loaded[servicePath] ??= {})[name] = kind(method);
      }
    }
    expect(loaded).toEqual(ETCD_34_METHODS);
  });

  it('decodes 64-bit fields as exact decimal strings and fills in proto3 defaults', () => {
    const { grpcObject } = loadEtcdProtos();
    const header = grpcObject.etcdserverpb.ResponseHeader;
    const memberId = '13668033151171901709'; // above 2^63: a real etcd member id
    const wire = header.serialize({ cluster_id: '18446744073709551615', member_id: memberId, revision: 7 });
    expect(header.deserialize(wire)).toEqual({
      cluster_id: '18446744073709551615',
      member_id: memberId,
      revision: '7',
      raft_term: '0',
    });
  });

  it('names the set field of a oneof and keeps enum names and byte keys', () => {
    const { grpcObject } = loadEtcdProtos();
    const op = grpcObject.etcdserverpb.RequestOp;
    const decoded = op.deserialize(op.serialize({ request_put: { key: Buffer.from([0, 255]), value: Buffer.from('v') } }));
    expect(decoded.request).toBe('request_put');
    expect(decoded.request_put?.key).toEqual(Buffer.from([0, 255]));
    // The trap PROTO_LOADER_OPTIONS documents: a string given for a bytes field is base64.
    const fromString = op.deserialize(op.serialize({ request_put: { key: 'AP8=' } }));
    expect(fromString.request_put?.key).toEqual(Buffer.from([0, 255]));
    const compare = grpcObject.etcdserverpb.Compare;
    const c = compare.deserialize(compare.serialize({ result: 'NOT_EQUAL', target: 'MOD', key: Buffer.from('k'), mod_revision: 5 }));
    expect([c.result, c.target, c.target_union, c.mod_revision]).toEqual(['NOT_EQUAL', 'MOD', 'mod_revision', '5']);
  });

  it('the committed generated types are what the generator makes from the vendored files', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pontoon-proto-types-'));
    try {
      generateProtoTypes(out);
      const committed = path.join(import.meta.dirname, '../src/proto-types');
      const list = (root: string): string[] =>
        (fs.readdirSync(root, { recursive: true }) as string[])
          .filter((f) => fs.statSync(path.join(root, f)).isFile())
          .sort();
      expect(list(out)).toEqual(list(committed));
      for (const f of list(out)) {
        expect(fs.readFileSync(path.join(committed, f), 'utf8'), f).toBe(fs.readFileSync(path.join(out, f), 'utf8'));
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
