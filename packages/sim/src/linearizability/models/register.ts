/**
 * A single read/write/compare-and-set register, as Jepsen's etcd and Knossos's cas-register
 * tests define it. The register starts empty (nil): reading it before any write returns null.
 */
import type { Model } from '../model.js';

/** What a register holds. */
export type RegisterValue = number | string;

/** A register operation, as the client asked it. */
export type RegisterInput =
  | { readonly op: 'read' }
  | { readonly op: 'write'; readonly value: RegisterValue }
  /** Sets `next` if the register holds `expected`. */
  | { readonly op: 'cas'; readonly expected: RegisterValue; readonly next: RegisterValue };

/**
 * What came back. A read returns the value or null (never written). A cas returns whether it
 * swapped: in Jepsen's logs a `:fail` cas completed with `ok: false` (the comparison failed),
 * which is an observation of the register like a read.
 */
export type RegisterOutput =
  | { readonly op: 'read'; readonly value: RegisterValue | null }
  | { readonly op: 'write' }
  | { readonly op: 'cas'; readonly ok: boolean };

/** The register's state: its value, or null before the first write. */
export type RegisterState = RegisterValue | null;

function keyOf(state: RegisterState): string {
  if (state === null) return 'nil';
  return typeof state === 'number' ? `n${state}` : `s${state}`;
}

function show(v: RegisterValue | null): string {
  return v === null ? 'nil' : typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** The register model: read, write and cas over one value. */
export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = {
  name: 'register',
  init: () => null,
  step(state, input, output) {
    if (output !== undefined && output.op !== input.op) return undefined;
    switch (input.op) {
      case 'read':
        // A read of unknown outcome observed nothing, so it is legal in any state.
        if (output === undefined) return state;
        return (output as { value: RegisterValue | null }).value === state ? state : undefined;
      case 'write':
        return input.value;
      case 'cas': {
        const swaps = state === input.expected;
        if (output !== undefined && (output as { ok: boolean }).ok !== swaps) return undefined;
        return swaps ? input.next : state;
      }
    }
  },
  key: keyOf,
  describe(input, output) {
    switch (input.op) {
      case 'read':
        return `read() -> ${output === undefined ? '?' : show((output as { value: RegisterValue | null }).value)}`;
      case 'write':
        return `write(${show(input.value)})`;
      case 'cas':
        return `cas(${show(input.expected)}, ${show(input.next)}) -> ${output === undefined ? '?' : (output as { ok: boolean }).ok ? 'ok' : 'fail'}`;
    }
  },
};
