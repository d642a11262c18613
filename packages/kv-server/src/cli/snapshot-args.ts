import { CommandLineError } from '../errors.js';
import { parseEtcdUrls } from '../etcd-urls.js';
import type { InitialClusterIds } from '../member-id.js';
import { verifyBootstrap } from './bootstrap-check.js';
import { parseGoBool } from './go-values.js';

/** `pontoon-kv snapshot restore FILE [flags]`: etcdctl 3.4's restore flags, checked. */
export interface SnapshotRestoreArgs {
  readonly command: 'snapshot-restore';
  readonly file: string;
  readonly name: string;
  /** `--data-dir`, or `${name}.etcd` as etcdctl defaults it. */
  readonly dataDir: string;
  readonly initialCluster: string;
  readonly initialClusterToken: string;
  readonly initialAdvertisePeerUrls: readonly string[];
  readonly skipHashCheck: boolean;
  /** The member and cluster ids the restored member will have (etcdctl derives them alike). */
  readonly ids: InitialClusterIds;
  readonly warnings: readonly string[];
}

/** `pontoon-kv snapshot status FILE [-w simple|json|table|fields]`. */
export interface SnapshotStatusArgs {
  readonly command: 'snapshot-status';
  readonly file: string;
  readonly writeOut: 'simple' | 'json' | 'table' | 'fields';
}

/** etcdctl's exit statuses: a wrong number of arguments, a flag cobra refuses, a bad format. */
const EXIT_BAD_ARGS = 128;
const EXIT_FLAG_ERROR = 1;
const EXIT_BAD_FEATURE = 4;

interface PflagSpec {
  readonly bool: boolean;
  readonly defaultValue: string;
  readonly short?: string;
}

const RESTORE_FLAGS: Record<string, PflagSpec> = {
  'data-dir': { bool: false, defaultValue: '' },
  'wal-dir': { bool: false, defaultValue: '' },
  'initial-cluster': { bool: false, defaultValue: 'default=http://localhost:2380' },
  'initial-cluster-token': { bool: false, defaultValue: 'etcd-cluster' },
  'initial-advertise-peer-urls': { bool: false, defaultValue: 'http://localhost:2380' },
  name: { bool: false, defaultValue: 'default' },
  'skip-hash-check': { bool: true, defaultValue: 'false' },
};

const STATUS_FLAGS: Record<string, PflagSpec> = {
  'write-out': { bool: false, defaultValue: 'simple', short: 'w' },
};

/**
 * Reads the arguments after `snapshot` (`restore FILE ...` or `status FILE ...`) as etcdctl 3.4
 * does (cobra/pflag: flags and the file in any order, `--flag value` or `--flag=value`), and
 * checks a restore's cluster flags as etcdctl's restore does before it writes anything.
 */
export function parseSnapshotArgs(argv: readonly string[]): SnapshotRestoreArgs | SnapshotStatusArgs {
  const [sub, ...rest] = argv;
  if (sub === 'restore') {
    const { values, positional } = parsePflags(rest, RESTORE_FLAGS);
    if (positional.length !== 1) {
      throw new CommandLineError('snapshot restore requires exactly one argument', undefined, EXIT_BAD_ARGS);
    }
    const name = values.get('name')!;
    let peerUrls: string[];
    try {
      peerUrls = parseEtcdUrls(values.get('initial-advertise-peer-urls')!.split(','));
    } catch (e) {
      throw new CommandLineError((e as Error).message, '--initial-advertise-peer-urls');
    }
    const initialCluster = values.get('initial-cluster')!;
    const initialClusterToken = values.get('initial-cluster-token')!;
    const ids = verifyBootstrap({
      name,
      initialCluster,
      initialClusterToken,
      initialAdvertisePeerUrls: peerUrls,
      initialClusterState: 'new',
    });
    const warnings =
      values.get('wal-dir') !== '' ? ['flag --wal-dir is ignored: pontoon-kv keeps its log in --data-dir'] : [];
    return {
      command: 'snapshot-restore',
      file: positional[0]!,
      name,
      dataDir: values.get('data-dir') === '' ? `${name}.etcd` : values.get('data-dir')!,
      initialCluster,
      initialClusterToken,
      initialAdvertisePeerUrls: peerUrls,
      skipHashCheck: parseGoBool(values.get('skip-hash-check')!),
      ids,
      warnings,
    };
  }
  if (sub === 'status') {
    const { values, positional } = parsePflags(rest, STATUS_FLAGS);
    if (positional.length !== 1) {
      throw new CommandLineError('snapshot status requires exactly one argument', undefined, EXIT_BAD_ARGS);
    }
    const writeOut = values.get('write-out')!;
    if (writeOut !== 'simple' && writeOut !== 'json' && writeOut !== 'table' && writeOut !== 'fields') {
      throw new CommandLineError('unsupported output format', '--write-out', EXIT_BAD_FEATURE);
    }
    return { command: 'snapshot-status', file: positional[0]!, writeOut };
  }
  throw new CommandLineError(
    sub === undefined
      ? 'snapshot needs a subcommand: restore or status'
      : `unknown snapshot subcommand "${sub}" (pontoon-kv has restore and status; save with etcdctl snapshot save)`,
    undefined,
    EXIT_BAD_ARGS,
  );
}

/** pflag's syntax: long flags with `=` or a following value, bool flags bare, `--` ends flags. */
function parsePflags(
  argv: readonly string[],
  specs: Record<string, PflagSpec>,
): { values: Map<string, string>; positional: string[] } {
  const values = new Map(Object.entries(specs).map(([k, s]) => [k, s.defaultValue]));
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      if (specs[name] === undefined) throw new CommandLineError(`unknown flag: --${name}`, `--${name}`, EXIT_FLAG_ERROR);
    } else if (arg.startsWith('-') && arg.length > 1) {
      const short = arg[1]!;
      const found = Object.entries(specs).find(([, s]) => s.short === short);
      if (found === undefined) {
        throw new CommandLineError(`unknown shorthand flag: '${short}' in ${arg}`, `-${short}`, EXIT_FLAG_ERROR);
      }
      name = found[0];
      const tail = arg.slice(2);
      inline = tail === '' ? undefined : tail.startsWith('=') ? tail.slice(1) : tail;
    } else {
      positional.push(arg);
      continue;
    }
    const spec = specs[name]!;
    let value: string;
    if (inline !== undefined) value = inline;
    else if (spec.bool) value = 'true';
    else if (i + 1 < argv.length) value = argv[++i]!;
    else throw new CommandLineError(`flag needs an argument: --${name}`, `--${name}`, EXIT_FLAG_ERROR);
    if (spec.bool) {
      try {
        parseGoBool(value);
      } catch {
        throw new CommandLineError(
          `invalid argument "${value}" for "--${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`,
          `--${name}`,
          EXIT_FLAG_ERROR,
        );
      }
    }
    values.set(name, value);
  }
  return { values, positional };
}
