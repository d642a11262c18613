/**
 * The test KV store's commands on the wire: one byte for the operation, the key, a newline,
 * the value (UTF-8).
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A write of the test KV store. */
export interface KvWrite {
  op: 'put' | 'append';
  key: string;
  value: string;
}

const PUT = 0x70; // 'p'
const APPEND = 0x61; // 'a'

export function encodeKvWrite(w: KvWrite): Uint8Array {
  const body = encoder.encode(`${w.key}\n${w.value}`);
  const out = new Uint8Array(body.length + 1);
  out[0] = w.op === 'put' ? PUT : APPEND;
  out.set(body, 1);
  return out;
}

/** Decodes a command; throws on bytes that are not one (a state machine must not guess). */
export function decodeKvWrite(data: Uint8Array): KvWrite {
  const op = data[0] === PUT ? 'put' : data[0] === APPEND ? 'append' : undefined;
  if (op === undefined) throw new Error(`not a kv command (first byte ${String(data[0])})`);
  const text = decoder.decode(data.subarray(1));
  const nl = text.indexOf('\n');
  if (nl < 0) throw new Error('not a kv command (no key separator)');
  return { op, key: text.slice(0, nl), value: text.slice(nl + 1) };
}
