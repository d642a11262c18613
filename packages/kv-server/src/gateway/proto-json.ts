/**
 * etcd's messages in JSON as etcd 3.4's gateway writes and reads them (grpc-gateway v1's JSONPb
 * with OrigName, on golang/protobuf's jsonpb):
 * - out: field names as in the .proto (`create_revision`, `ID`), in declaration order; fields at
 *   their zero value left out; 64-bit integers as decimal strings, 32-bit ones as numbers; bytes
 *   in padded standard base64; enums by name; strings escaped as Go escapes them.
 * - in: a field by its .proto name or its lowerCamel JSON name (the latter wins when both are
 *   there), unknown fields ignored, `null` as absent, integers as numbers or quoted, enums by
 *   name or number, bytes in standard base64; anything else refused with jsonpb's error text.
 *
 * The message shapes come from proto-loader's descriptors, the same definition the gRPC server
 * serves, so the gateway can only speak the messages the server does.
 */
import type { PackageDefinition } from '@grpc/proto-loader';
import { decodeGoBase64 } from './go-base64.js';
import { GoJsonError, goJsonString, unmarshalWhole } from './go-json.js';
import type { GoJsonValue } from './go-json.js';

interface FieldShape {
  readonly name: string;
  readonly jsonName: string;
  readonly repeated: boolean;
  /** The descriptor's type: TYPE_INT64, TYPE_BYTES, TYPE_MESSAGE, ... */
  readonly type: string;
  /** The full name of a message or enum field's type. */
  readonly typeName: string;
}

interface MessageShape {
  readonly fields: readonly FieldShape[];
  /** Its oneofs' names: a decoded message names the member that is set under each. */
  readonly oneofs: readonly string[];
}

interface EnumShape {
  /** The Go type name in jsonpb's errors: `etcdserverpb.RangeRequest_SortOrder`. */
  readonly goName: string;
  readonly byName: ReadonlyMap<string, number>;
  readonly byNumber: ReadonlyMap<number, string>;
}

interface DescriptorField {
  name: string;
  label: string;
  type: string;
  typeName: string;
}

interface DescriptorEnum {
  name: string;
  value: { name: string; number: number }[];
}

interface DescriptorMessage {
  name: string;
  field: DescriptorField[];
  oneofDecl?: { name: string }[];
  enumType?: DescriptorEnum[];
  nestedType?: DescriptorMessage[];
}

const INT_TYPES: Readonly<Record<string, { goType: string; min: bigint; max: bigint; quoted: boolean }>> = {
  TYPE_INT64: { goType: 'int64', min: -(1n << 63n), max: (1n << 63n) - 1n, quoted: true },
  TYPE_SINT64: { goType: 'int64', min: -(1n << 63n), max: (1n << 63n) - 1n, quoted: true },
  TYPE_SFIXED64: { goType: 'int64', min: -(1n << 63n), max: (1n << 63n) - 1n, quoted: true },
  TYPE_UINT64: { goType: 'uint64', min: 0n, max: (1n << 64n) - 1n, quoted: true },
  TYPE_FIXED64: { goType: 'uint64', min: 0n, max: (1n << 64n) - 1n, quoted: true },
  TYPE_INT32: { goType: 'int32', min: -(1n << 31n), max: (1n << 31n) - 1n, quoted: false },
  TYPE_SINT32: { goType: 'int32', min: -(1n << 31n), max: (1n << 31n) - 1n, quoted: false },
  TYPE_SFIXED32: { goType: 'int32', min: -(1n << 31n), max: (1n << 31n) - 1n, quoted: false },
  TYPE_UINT32: { goType: 'uint32', min: 0n, max: (1n << 32n) - 1n, quoted: false },
  TYPE_FIXED32: { goType: 'uint32', min: 0n, max: (1n << 32n) - 1n, quoted: false },
};

/** protoc's JSON name: underscores dropped, the letter after each one upper-cased. */
export function protoJsonName(name: string): string {
  return name.replace(/_(.)?/g, (_m, c: string | undefined) => (c === undefined ? '' : c.toUpperCase()));
}

/** Go's %q of a string (strconv.Quote), for jsonpb's enum error. */
function goQuote(s: string): string {
  const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };
  return `"${s.replace(/[\x00-\x1f\x7f\\"]/g, (c) => named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
}

/** The package of a full name: its components before the first capitalized one. */
function packageOf(fullName: string): string {
  const parts = fullName.split('.');
  const i = parts.findIndex((p) => /^[A-Z]/.test(p));
  return parts.slice(0, i < 0 ? parts.length - 1 : i).join('.');
}

/** Reads and writes etcd's messages as the gateway's JSON. */
export class ProtoJson {
  private readonly messages = new Map<string, MessageShape>();
  private readonly enums = new Map<string, EnumShape>();

  constructor(definition: PackageDefinition) {
    const raw = new Map<string, DescriptorMessage>();
    for (const [name, def] of Object.entries(definition)) {
      const d = def as { format?: string; type?: unknown };
      if (d.format === 'Protocol Buffer 3 DescriptorProto') raw.set(name, d.type as DescriptorMessage);
      else if (d.format === 'Protocol Buffer 3 EnumDescriptorProto') this.addEnum(name, d.type as DescriptorEnum);
    }
    // Nested messages are in their parent's descriptor only.
    const addNested = (name: string, m: DescriptorMessage): void => {
      for (const n of m.nestedType ?? []) {
        const full = `${name}.${n.name}`;
        if (!raw.has(full)) raw.set(full, n);
        addNested(full, n);
      }
    };
    for (const [name, m] of [...raw]) addNested(name, m);
    for (const [name, m] of raw) for (const e of m.enumType ?? []) this.addEnum(`${name}.${e.name}`, e);
    const resolve = (scope: string, typeName: string): string => {
      if (typeName.startsWith('.')) return typeName.slice(1);
      // Protobuf's scoping: the innermost enclosing scope that has the name.
      const parts = scope.split('.');
      for (let i = parts.length; i >= 0; i--) {
        const candidate = [...parts.slice(0, i), typeName].join('.');
        if (raw.has(candidate) || this.enums.has(candidate)) return candidate;
      }
      // Left unresolved: only a message the gateway never carries can name such a type.
      return `?${typeName}`;
    };
    for (const [name, m] of raw) {
      this.messages.set(name, {
        oneofs: (m.oneofDecl ?? []).map((o) => o.name),
        fields: m.field.map((f) => ({
          name: f.name,
          jsonName: protoJsonName(f.name),
          repeated: f.label === 'LABEL_REPEATED',
          type: f.type,
          typeName: f.type === 'TYPE_MESSAGE' || f.type === 'TYPE_ENUM' ? resolve(name, f.typeName) : '',
        })),
      });
    }
  }

  private addEnum(fullName: string, e: DescriptorEnum): void {
    const pkg = packageOf(fullName);
    const local = fullName.slice(pkg.length + 1).split('.').join('_');
    this.enums.set(fullName, {
      goName: `${pkg.split('.').join('_')}.${local}`,
      byName: new Map(e.value.map((v) => [v.name, v.number])),
      byNumber: new Map(e.value.map((v) => [v.number, v.name])),
    });
  }

  private enumShape(name: string): EnumShape {
    const e = this.enums.get(name);
    if (e === undefined) throw new Error(`proto-json: unknown enum ${name}`);
    return e;
  }

  private message(name: string): MessageShape {
    const m = this.messages.get(name);
    if (m === undefined) throw new Error(`proto-json: unknown message ${name}`);
    return m;
  }

  /**
   * A message object, ready for proto-loader's serializer, from a parsed JSON value; throws a
   * GoJsonError with jsonpb's text for a value the field cannot take.
   */
  toMessage(typeName: string, value: GoJsonValue): Record<string, unknown> {
    if (value.kind === 'null') return {};
    if (value.kind !== 'object') throw new GoJsonError(`json: cannot unmarshal ${value.kind} into Go value of type map[string]json.RawMessage`);
    const out: Record<string, unknown> = {};
    for (const f of this.message(typeName).fields) {
      const v = value.entries.get(f.jsonName) ?? value.entries.get(f.name);
      if (v === undefined || v.kind === 'null') continue;
      if (f.repeated) {
        if (v.kind !== 'array') throw new GoJsonError(`json: cannot unmarshal ${v.kind} into Go value of type []json.RawMessage`);
        out[f.name] = v.items.map((item) => this.fieldValue(f, item));
      } else {
        out[f.name] = this.fieldValue(f, v);
      }
    }
    return out;
  }

  private fieldValue(f: FieldShape, v: GoJsonValue): unknown {
    switch (f.type) {
      case 'TYPE_MESSAGE':
        return this.toMessage(f.typeName, v);
      case 'TYPE_ENUM':
        return this.enumValue(this.enumShape(f.typeName), v);
      case 'TYPE_BOOL':
        if (v.kind === 'null') return false;
        if (v.kind !== 'bool') throw new GoJsonError(`json: cannot unmarshal ${v.kind} into Go value of type bool`);
        return v.value;
      case 'TYPE_STRING':
        if (v.kind === 'null') return '';
        if (v.kind !== 'string') throw new GoJsonError(`json: cannot unmarshal ${v.kind} into Go value of type string`);
        return v.value;
      case 'TYPE_BYTES':
        if (v.kind === 'null') return Buffer.alloc(0);
        if (v.kind !== 'string') throw new GoJsonError(`json: cannot unmarshal ${v.kind} into Go value of type []uint8`);
        return decodeGoBase64(Buffer.from(v.value, 'utf8'));
      default: {
        const int = INT_TYPES[f.type];
        if (int === undefined) throw new Error(`proto-json: field type ${f.type} is not used by etcd's messages`);
        return this.intValue(int.goType, int.min, int.max, v);
      }
    }
  }

  /** jsonpb: a quoted integer has its quotes dropped and the rest unmarshaled as JSON. */
  private intValue(goType: string, min: bigint, max: bigint, v: GoJsonValue): string {
    const inner = v.kind === 'string' ? unmarshalWhole(v.raw) : v;
    if (inner.kind === 'null') return '0';
    if (inner.kind !== 'number') throw new GoJsonError(`json: cannot unmarshal ${inner.kind} into Go value of type ${goType}`);
    if (!/^-?\d+$/.test(inner.text) || BigInt(inner.text) < min || BigInt(inner.text) > max) {
      throw new GoJsonError(`json: cannot unmarshal number ${inner.text} into Go value of type ${goType}`);
    }
    return BigInt(inner.text).toString();
  }

  private enumValue(e: EnumShape, v: GoJsonValue): number {
    if (v.kind === 'string') {
      const n = e.byName.get(v.value);
      if (n === undefined) throw new GoJsonError(`unknown value ${goQuote(v.value)} for enum ${e.goName}`);
      return n;
    }
    if (v.kind === 'null') return 0;
    if (v.kind !== 'number') throw new GoJsonError(`json: cannot unmarshal ${v.kind} into Go value of type ${e.goName}`);
    if (!/^-?\d+$/.test(v.text) || BigInt(v.text) < -(1n << 31n) || BigInt(v.text) >= 1n << 31n) {
      throw new GoJsonError(`json: cannot unmarshal number ${v.text} into Go value of type ${e.goName}`);
    }
    return Number(v.text);
  }

  /** The JSON of a message object as proto-loader decodes it (keepCase, longs and enums as strings). */
  fromMessage(typeName: string, obj: Readonly<Record<string, unknown>>): string {
    const shape = this.message(typeName);
    // jsonpb writes the member a oneof holds even at its zero value.
    const setMembers = new Set(shape.oneofs.map((o) => obj[o]));
    let out = '';
    for (const f of shape.fields) {
      const v = obj[f.name];
      if (v === undefined || v === null) continue;
      let json: string | undefined;
      if (f.repeated) {
        const items = v as readonly unknown[];
        if (items.length > 0) json = `[${items.map((item) => this.valueJson(f, item) ?? this.zeroJson(f)).join(',')}]`;
      } else {
        json = this.valueJson(f, v) ?? (setMembers.has(f.name) ? this.zeroJson(f) : undefined);
      }
      if (json !== undefined) out += `${out === '' ? '' : ','}${goJsonString(f.name)}:${json}`;
    }
    return `{${out}}`;
  }

  /** A field's value as JSON, or undefined at its zero value (left out). */
  private valueJson(f: FieldShape, v: unknown): string | undefined {
    switch (f.type) {
      case 'TYPE_MESSAGE':
        return this.fromMessage(f.typeName, v as Record<string, unknown>);
      case 'TYPE_ENUM': {
        const e = this.enumShape(f.typeName);
        const n = typeof v === 'number' ? v : (e.byName.get(String(v)) ?? 0);
        if (n === 0) return undefined;
        const name = e.byNumber.get(n);
        return name === undefined ? String(n) : goJsonString(name);
      }
      case 'TYPE_BOOL':
        return v === true ? 'true' : undefined;
      case 'TYPE_STRING':
        return v === '' ? undefined : goJsonString(String(v));
      case 'TYPE_BYTES': {
        const b = v as Uint8Array;
        return b.length === 0 ? undefined : `"${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')}"`;
      }
      default: {
        const int = INT_TYPES[f.type];
        if (int === undefined) throw new Error(`proto-json: field type ${f.type} is not used by etcd's messages`);
        const s = String(v);
        if (s === '0') return undefined;
        return int.quoted ? `"${s}"` : s;
      }
    }
  }

  /** An element of a repeated field at its zero value, which a list keeps. */
  private zeroJson(f: FieldShape): string {
    if (f.type === 'TYPE_MESSAGE') return '{}';
    if (f.type === 'TYPE_BOOL') return 'false';
    if (f.type === 'TYPE_STRING' || f.type === 'TYPE_BYTES') return '""';
    if (f.type === 'TYPE_ENUM') {
      const name = this.enumShape(f.typeName).byNumber.get(0);
      return name === undefined ? '0' : goJsonString(name);
    }
    return INT_TYPES[f.type]?.quoted === true ? '"0"' : '0';
  }
}
