/**
 * Under TLS, which node a certificate speaks for. The CA vouches that a certificate is one of
 * the cluster's, not which node holds it: without this, any node's certificate (one stolen
 * from a decommissioned machine, say) would let its holder claim any node id in its handshake,
 * and so vote, or answer, in another node's name.
 *
 * A node's certificate names it with a URI subject alternative name `pontoon://node/<id>`
 * (e.g. `subjectAltName=IP:10.0.0.2,URI:pontoon://node/2` in an openssl extension file), exactly
 * one. An accepting node refuses a Hello whose sender is not the node the client's certificate
 * names; a dialling node refuses a server whose certificate does not name the node it dialled.
 * Another naming scheme (a CN, a DNS name) is one `tls.nodeIdOf` away.
 */
import type { PeerCertificate } from 'node:tls';

/** The URI scheme and path of a node's name in its certificate. */
export const NODE_URI_PREFIX = 'pontoon://node/';

/**
 * The node a certificate names: the id in its one `pontoon://node/<id>` URI SAN; undefined if
 * it has none, several, or one that is not a positive integer.
 */
export function nodeIdOfCertificate(cert: PeerCertificate): number | undefined {
  let found: number | undefined;
  for (const uri of subjectAltNames(cert.subjectaltname, 'URI')) {
    if (!uri.startsWith(NODE_URI_PREFIX)) continue;
    const text = uri.slice(NODE_URI_PREFIX.length);
    const id = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(id) || found !== undefined) return undefined;
    found = id;
  }
  return found;
}

/**
 * The values of one kind of SAN in Node's `subjectaltname` text ("DNS:a, URI:b, IP Address:c").
 * Node quotes a value that holds a comma, quote or backslash, JSON-style, so that no value can
 * pass for two (CVE-2021-44532); a quoted value is unquoted here, and one that does not parse is
 * skipped.
 */
export function subjectAltNames(altNames: string | undefined, kind: string): string[] {
  const out: string[] = [];
  if (altNames === undefined) return out;
  const re = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = re.exec(altNames); m !== null; m = re.exec(altNames)) {
    if (m[1] !== kind) continue;
    const value = m[2]!;
    if (!value.startsWith('"')) {
      out.push(value);
      continue;
    }
    try {
      out.push(JSON.parse(value) as string);
    } catch {
      // Not a value Node writes: ignore it rather than guess.
    }
  }
  return out;
}

/** A certificate in a log line: its subject CN and SANs. */
export function describeCertificate(cert: PeerCertificate): string {
  const cn = cert.subject?.CN;
  return `CN=${cn === undefined ? '?' : String(cn)}; SAN ${cert.subjectaltname ?? 'none'}`;
}
