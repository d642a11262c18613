/**
 * Where instances are registered: one key per instance, `/services/<name>/<host:port>`, whose
 * value is the JSON `{"Addr":"<host:port>"}`, the shape of etcd's Go `endpoints.Endpoint`. The
 * key names the instance (so two registrations of one address are one key); the value is what
 * a client dials, as etcd's resolver reads it.
 */

/** The key prefix under which instances of `service` register (`/services/echo/`). */
export function servicePrefix(service: string): string {
  return `/services/${service}/`;
}

/** The key of the instance of `service` at `address` (`host:port`). */
export function instanceKey(service: string, address: string): string {
  return `${servicePrefix(service)}${address}`;
}

/** The value stored under an instance's key. */
export function encodeEndpoint(address: string): string {
  return JSON.stringify({ Addr: address });
}

/**
 * The address in a registered value, or undefined when the value is not an endpoint (anyone can
 * write under the prefix: a value we cannot read is skipped, not fatal).
 */
export function decodeEndpoint(value: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const addr: unknown = (parsed as { Addr?: unknown }).Addr;
    return typeof addr === 'string' && addr.length > 0 ? addr : undefined;
  } catch {
    return undefined;
  }
}
