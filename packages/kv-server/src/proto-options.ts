/**
 * The one set of @grpc/proto-loader options the server, its clients and the generated types
 * share. The generated types in `proto-types/` describe messages decoded with exactly these
 * options, so changing one here means regenerating them (`pnpm gen:proto`; a test checks).
 *
 * - `keepCase`: field names as etcd's .proto spells them (`create_revision`, `range_end`), so
 *   that a message reads like etcd's documentation and JSON output of `etcdctl -w json`.
 * - `longs: String`: every 64-bit field decodes to a decimal string. Member ids, lease ids and
 *   cluster ids are unsigned 64-bit values well above 2^53 (member ids are SHA-1 derived), so a
 *   JS number would corrupt them; revisions fit a number but one rule for every int64/uint64
 *   field keeps mistakes out. Encoding accepts a number, a decimal string or a Long; convert
 *   with `BigInt(s)` (ids) or `Number(s)` (revisions, versions, counts) at the edge.
 * - `enums: String`: `'PUT'`, `'DELETE'`, `'EQUAL'`, ... as names, not wire numbers.
 * - `defaults: true`: proto3 leaves zero values off the wire; etcd's Go code reads them as zero,
 *   so a decoded request has every scalar field present (`limit: '0'`, `key: <empty Buffer>`).
 * - `oneofs: true`: `RequestOp.request` / `ResponseOp.response` / `Compare.target_union` name
 *   the field that is set.
 * - bytes stay Buffers (the default): keys and values are binary in etcd. On encode, give a
 *   Buffer or Uint8Array: protobufjs reads a *string* given for a bytes field as base64.
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

/** The same options as command-line flags of `proto-loader-gen-types`. */
export const PROTO_GEN_TYPES_FLAGS: readonly string[] = [
  '--keepCase',
  '--longs=String',
  '--enums=String',
  '--defaults',
  '--oneofs',
];
