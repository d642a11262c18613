/**
 * Fencing tokens as etcd values. A lock's token is the create revision of the holder's key:
 * every acquisition creates a new key, so a later holder always has a larger token. A store
 * refuses a write whose token is below the largest it has seen (Kleppmann's fencing), so a
 * holder that lost the lock without noticing (a long pause, its lease expired) cannot overwrite
 * the work of the holder after it.
 *
 * etcd compares values as bytes, so a token is written as a fixed-width decimal: byte order
 * then equals numeric order and a transaction's compare can check it on the server.
 */

/** Digits of Number.MAX_SAFE_INTEGER, the largest revision a safe integer holds. */
const WIDTH = 16;

/** The token as a value whose byte order is its numeric order. */
export function encodeToken(token: number): string {
  if (!Number.isSafeInteger(token) || token < 0) throw new RangeError(`fencing token must be a non-negative safe integer, got ${token}`);
  return token.toString().padStart(WIDTH, '0');
}

/** The token an `encodeToken` value holds. */
export function decodeToken(value: string): number {
  return Number.parseInt(value, 10);
}
