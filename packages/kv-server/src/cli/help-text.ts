import { ETCD_FLAGS, etcdEnvName } from './etcd-flags.js';

const SECTIONS: readonly { title: string; flags: readonly string[] }[] = [
  {
    title: 'Member',
    flags: [
      'name',
      'data-dir',
      'listen-peer-urls',
      'listen-client-urls',
      'listen-metrics-urls',
      'snapshot-count',
      'heartbeat-interval',
      'election-timeout',
      'quota-backend-bytes',
      'max-txn-ops',
      'max-request-bytes',
      'backend-batch-interval',
      'backend-batch-limit',
    ],
  },
  {
    title: 'Clustering',
    flags: [
      'initial-advertise-peer-urls',
      'advertise-client-urls',
      'initial-cluster',
      'initial-cluster-state',
      'initial-cluster-token',
      'force-new-cluster',
      'strict-reconfig-check',
      'enable-grpc-gateway',
    ],
  },
  {
    title: 'Security',
    flags: [
      'cert-file',
      'key-file',
      'client-cert-auth',
      'trusted-ca-file',
      'auto-tls',
      'peer-cert-file',
      'peer-key-file',
      'peer-client-cert-auth',
      'peer-trusted-ca-file',
      'peer-auto-tls',
    ],
  },
  { title: 'Logging', flags: ['logger', 'log-level'] },
  { title: 'Other', flags: ['version', 'help'] },
];

/**
 * `pontoon-kv --help`: the flags pontoon-kv honours with their defaults (etcd's), then the etcd
 * flags it accepts and ignores, and those it refuses. Built from the flag table, so it cannot
 * list a flag the parser does not know.
 */
export function helpText(): string {
  const lines: string[] = [
    'Usage:',
    '',
    '  pontoon-kv [flags]',
    '    Start a member of an etcd 3.4-compatible cluster.',
    '  pontoon-kv snapshot restore <file> [--data-dir --name --initial-cluster',
    '      --initial-cluster-token --initial-advertise-peer-urls --skip-hash-check]',
    '    Build a new member\'s data directory from a snapshot (etcdctl snapshot save).',
    '  pontoon-kv snapshot status <file> [-w simple|json|table|fields]',
    '    Print a snapshot\'s hash, revision, total keys and size.',
    '',
    'Flags take "--flag value" or "--flag=value"; each can also come from its ETCD_* variable',
    '(--initial-cluster-token from ETCD_INITIAL_CLUSTER_TOKEN). Setting both is an error.',
  ];
  const byName = new Map(ETCD_FLAGS.map((f) => [f.name, f]));
  for (const section of SECTIONS) {
    lines.push('', `${section.title}:`);
    for (const name of section.flags) {
      if (name === 'help') {
        lines.push('  -h, --help', '    Print this help and exit.');
        continue;
      }
      const spec = byName.get(name);
      if (spec === undefined || spec.role !== 'supported') throw new Error(`help lists --${name}, not a supported flag`);
      const shown = spec.kind === 'bool' ? '' : ` '${spec.defaultValue}'`;
      lines.push(`  --${name}${shown}`, `    ${spec.help} [${etcdEnvName(name)}]`);
    }
  }
  const listed = new Set(SECTIONS.flatMap((s) => s.flags));
  const missing = ETCD_FLAGS.filter((f) => f.role === 'supported' && !listed.has(f.name));
  if (missing.length > 0) throw new Error(`help omits supported flags: ${missing.map((f) => f.name).join(', ')}`);
  const wrap = (names: string[]): string[] => {
    const out: string[] = [];
    let line = ' ';
    for (const n of names) {
      if (line.length + n.length + 4 > 96) {
        out.push(line);
        line = ' ';
      }
      line += ` --${n}`;
    }
    out.push(line);
    return out;
  };
  lines.push(
    '',
    'Accepted for compatibility with etcd and ignored with a warning (they tune etcd\'s internals):',
    ...wrap(ETCD_FLAGS.filter((f) => f.role === 'ignored' || f.role === 'legacy').map((f) => f.name)),
    '',
    'etcd features pontoon-kv does not have (an error unless left at etcd\'s default):',
    ...wrap(ETCD_FLAGS.filter((f) => f.role === 'unsupported').map((f) => f.name)),
    '',
  );
  return lines.join('\n');
}
