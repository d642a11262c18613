/**
 * Addresses of members: where a member's peers dial it (the first of its peer URLs).
 */
/** `host:port` of a URL (the first of a member's peer URLs is where its peers dial it). */
export function hostPortOf(url: string): { host: string; port: number } {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  return { host, port };
}

export function addressText(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
