/**
 * The certificates a member serves with, from etcd's TLS flags: files given with
 * `--cert-file`/`--key-file` (`--peer-...` for members), or with `--auto-tls`
 * (`--peer-auto-tls`) a self-signed certificate made at start, as etcd makes one.
 *
 * The self-signed certificate comes from `selfsigned` (a maintained library over WebCrypto and
 * pkijs): building X.509 by hand is the kind of code that is easy to get subtly wrong, and
 * shelling out to openssl would make the member depend on a binary being installed.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { TlsFlags } from '../cli/server-config.js';
import { CommandLineError } from '../errors.js';

/** PEM material for one side (clients or peers). */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** `--trusted-ca-file`, when given. */
  readonly ca?: Buffer;
  readonly clientCertAuth: boolean;
  /** The certificate was made here (auto TLS): the other side's is self-signed too, and trusted as etcd trusts it. */
  readonly selfSigned: boolean;
}

/**
 * Reads or makes the material for `flags`; undefined when the side runs without TLS. `hosts`
 * are the host names and addresses the certificate is for (auto TLS only). `side` names the
 * flags in errors (`''` for clients, `'peer-'` for members).
 */
export async function loadTlsMaterial(flags: TlsFlags, hosts: readonly string[], side: '' | 'peer-'): Promise<TlsMaterial | undefined> {
  const ca = flags.trustedCaFile === '' ? undefined : await readPem(flags.trustedCaFile, `--${side}trusted-ca-file`);
  if (flags.certFile !== '' || flags.keyFile !== '') {
    if (flags.certFile === '' || flags.keyFile === '') {
      throw new CommandLineError(`--${side}cert-file and --${side}key-file go together`, `--${side}cert-file`);
    }
    return {
      cert: await readPem(flags.certFile, `--${side}cert-file`),
      key: await readPem(flags.keyFile, `--${side}key-file`),
      ...(ca === undefined ? {} : { ca }),
      clientCertAuth: flags.clientCertAuth,
      selfSigned: false,
    };
  }
  if (!flags.autoTls) return undefined;
  const altNames = [...new Set(['localhost', '127.0.0.1', ...hosts])].map((h) =>
    isIP(h) === 0 ? { type: 2 as const, value: h } : { type: 7 as const, ip: h },
  );
  // Loaded only here: the library (pkijs and its dependencies) costs every member's start
  // ~0.5 s of CPU, and only --auto-tls needs it.
  const { generate } = await import('selfsigned');
  const made = await generate([{ name: 'organizationName', value: 'etcd' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return {
    cert: Buffer.from(made.cert),
    key: Buffer.from(made.private),
    ...(ca === undefined ? {} : { ca }),
    clientCertAuth: flags.clientCertAuth,
    selfSigned: true,
  };
}

async function readPem(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new CommandLineError(`${flag}: cannot read ${file}: ${(err as Error).message}`, flag);
  }
}
