import { InvalidUrlError } from './errors.js';

/**
 * etcd's URL lists (its `types.NewURLs`): each URL trimmed, scheme http, https, unix or unixs,
 * an authority of the form host:port, no path; the list sorted by the URL's text. The text is
 * the URL as Go prints it (scheme lower-cased, the rest as given), because member ids are
 * hashes of exactly that text: `http://LOCALHOST:2380` and `http://localhost:2380` are different
 * members to etcd, so they must be to us.
 */
export function parseEtcdUrls(list: readonly string[]): string[] {
  if (list.length === 0) throw new InvalidUrlError('', 'no valid URLs given');
  return list.map(parseEtcdUrl).sort(compareStrings);
}

/** A comma-separated list (a flag's value) as parseEtcdUrls reads it. */
export function parseEtcdUrlList(value: string): string[] {
  return parseEtcdUrls(value.split(','));
}

/** One URL as etcd accepts it (see parseEtcdUrls), in Go's printed form. */
export function parseEtcdUrl(input: string): string {
  const text = input.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(.*)$/.exec(text);
  if (m === null) {
    throw new InvalidUrlError(input, `URL scheme must be http, https, unix, or unixs: ${text}`);
  }
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  const path = m[3]!;
  const rest = m[4]!;
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'unix' && scheme !== 'unixs') {
    throw new InvalidUrlError(input, `URL scheme must be http, https, unix, or unixs: ${text}`);
  }
  const at = authority.lastIndexOf('@');
  const host = at >= 0 ? authority.slice(at + 1) : authority;
  if (!isHostPort(host)) {
    throw new InvalidUrlError(input, `URL address does not have the form "host:port": ${text}`);
  }
  if (path !== '') throw new InvalidUrlError(input, `URL must not contain a path: ${text}`);
  return `${scheme}://${authority}${rest}`;
}

/**
 * `--initial-cluster` and the like (etcd's `types.NewURLsMap`): `name=url,name=url,...`, where
 * a name may appear more than once (a member with several peer URLs). Empty items are skipped;
 * an item without `=` is a name with an empty URL, which the URL check then refuses.
 */
export function parseEtcdUrlsMap(value: string): Map<string, string[]> {
  const raw = new Map<string, string[]>();
  for (const item of value.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq >= 0 ? item.slice(0, eq) : item;
    const url = eq >= 0 ? item.slice(eq + 1) : '';
    const urls = raw.get(name);
    if (urls === undefined) raw.set(name, [url]);
    else urls.push(url);
  }
  const parsed = new Map<string, string[]>();
  for (const [name, urls] of raw) parsed.set(name, parseEtcdUrls(urls));
  return parsed;
}

/** Go's `net.SplitHostPort` succeeds: `host:port` or `[v6]:port`; the port may be empty. */
function isHostPort(hostPort: string): boolean {
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    return close > 0 && hostPort[close + 1] === ':' && !hostPort.slice(close + 2).includes(':');
  }
  const colon = hostPort.lastIndexOf(':');
  return colon >= 0 && !hostPort.slice(0, colon).includes(':') && !/[[\]]/.test(hostPort);
}

/** Byte order, as Go's sort.Strings compares (not locale order). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
