import { CommandLineError } from '../errors.js';
import { parseEtcdUrlList } from '../etcd-urls.js';
import { type EtcdFlagSpec, etcdEnvName, etcdFlag, ETCD_FLAGS } from './etcd-flags.js';
import {
  GoValueError,
  parseGoBool,
  parseGoDuration,
  parseGoInt,
  parseGoInt64,
  parseGoUint,
  parseGoUint32,
} from './go-values.js';

/** Where a flag's value came from. */
export type FlagSource = 'flag' | 'env';

/** The flags given on the command line and in ETCD_* variables, checked but not interpreted. */
export interface EtcdArgs {
  /** `--help` / `-h` was given: nothing else was read. */
  readonly help: boolean;
  /** Values as given (the last one wins for a flag given twice), by flag name. */
  readonly values: ReadonlyMap<string, string>;
  readonly sources: ReadonlyMap<string, FlagSource>;
  /** Warnings etcd would log: ignored and legacy flags, unrecognized ETCD_* variables. */
  readonly warnings: readonly string[];
}

/** etcd exits with 2 for what Go's flag package refuses and 1 for the rest. */
const EXIT_USAGE = 2;

/**
 * Reads etcd's command line (`argv` without the program name) and then its ETCD_* environment
 * variables, as etcd 3.4 does (Go's flag package, then etcd's SetFlagsFromEnv):
 *
 * - `--flag value`, `--flag=value`, and the same with one dash; a bool flag takes no value
 *   (`--auto-tls`) or an attached one (`--auto-tls=false`); `--` ends the flags; the first
 *   argument that is not a flag ends them too, and is then an error.
 * - A flag not given on the command line is read from its variable (`--initial-cluster-token`
 *   from `ETCD_INITIAL_CLUSTER_TOKEN`) if that is set and not empty.
 * - A variable set for a flag also given on the command line is an error (etcd stops with
 *   "conflicting environment variable ... is shadowed by corresponding command-line flag").
 * - An ETCD_* variable that is no flag's is a warning, like etcd's.
 *
 * Throws CommandLineError with etcd's message for an unknown flag, a missing or bad value.
 */
export function parseEtcdArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): EtcdArgs {
  const values = new Map<string, string>();
  const sources = new Map<string, FlagSource>();
  const warnings: string[] = [];

  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.length < 2 || !arg.startsWith('-')) break;
    if (arg === '--') {
      i++;
      break;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) {
      throw new CommandLineError(`bad flag syntax: ${arg}`, undefined, EXIT_USAGE);
    }
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = etcdFlag(name);
    if (spec === undefined) {
      if (name === 'help' || name === 'h') return { help: true, values, sources, warnings };
      throw new CommandLineError(`flag provided but not defined: -${name}`, `--${name}`, EXIT_USAGE);
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.kind === 'bool' || spec.kind === 'legacy') value = 'true';
    else {
      if (i + 1 >= argv.length) throw new CommandLineError(`flag needs an argument: -${name}`, `--${name}`, EXIT_USAGE);
      value = argv[++i]!;
    }
    const reason = checkValue(spec, value);
    if (reason !== undefined) {
      // Go's flag package words a bad bool apart from other bad values.
      const what = spec.kind === 'bool' ? `invalid boolean value "${value}" for -${name}` : `invalid value "${value}" for flag -${name}`;
      throw new CommandLineError(`${what}: ${reason}`, `--${name}`, EXIT_USAGE);
    }
    noteSet(spec, value, warnings);
    values.set(name, value);
    sources.set(name, 'flag');
  }
  if (i < argv.length) throw new CommandLineError(`'${argv[i]}' is not a valid flag`);

  const used = new Set<string>();
  for (const spec of ETCD_FLAGS) {
    const key = etcdEnvName(spec.name);
    if (sources.get(spec.name) === 'flag') continue;
    const value = env[key];
    if (value === undefined || value === '') continue;
    used.add(key);
    const reason = checkValue(spec, value);
    if (reason !== undefined) throw new CommandLineError(`invalid value "${value}" for ${key}: ${reason}`, `--${spec.name}`);
    noteSet(spec, value, warnings);
    values.set(spec.name, value);
    sources.set(spec.name, 'env');
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || used.has(key)) continue;
    const spec = key.startsWith('ETCD_') ? ETCD_FLAGS.find((f) => etcdEnvName(f.name) === key) : undefined;
    if (spec !== undefined && sources.get(spec.name) === 'flag') {
      throw new CommandLineError(
        `conflicting environment variable "${key}" is shadowed by corresponding command-line flag ` +
          '(either unset environment variable or disable flag)',
        `--${spec.name}`,
      );
    }
    // ETCD_CONFIG_FILE is read apart by etcd; it is a flag here, so it never lands below.
    if (spec === undefined && key.startsWith('ETCD_')) warnings.push(`unrecognized environment variable ${key}=${value}`);
  }
  return { help: false, values, sources, warnings };
}

/** Go's reason for refusing `value` for this flag, or undefined when it is accepted. */
function checkValue(spec: EtcdFlagSpec, value: string): string | undefined {
  try {
    switch (spec.kind) {
      case 'string':
      case 'strings':
      case 'legacy':
        return undefined;
      case 'bool':
        parseGoBool(value);
        return undefined;
      case 'uint':
      case 'uint64':
        parseGoUint(value);
        return undefined;
      case 'uint32':
        parseGoUint32(value);
        return undefined;
      case 'int':
        parseGoInt(value);
        return undefined;
      case 'int64':
        parseGoInt64(value);
        return undefined;
      case 'duration':
        parseGoDuration(value);
        return undefined;
      case 'choice':
        return spec.choices?.includes(value) === true ? undefined : 'invalid value';
      case 'urls':
        if (spec.allowed?.includes(value) === true) return undefined;
        parseEtcdUrlList(value);
        return undefined;
    }
  } catch (e) {
    if (e instanceof GoValueError) return e.reason;
    if (e instanceof Error) return e.message;
    throw e;
  }
}

function noteSet(spec: EtcdFlagSpec, value: string, warnings: string[]): void {
  if (spec.role === 'legacy') warnings.push(`flag "-${spec.name}" is no longer supported - ignoring.`);
  else if (spec.role === 'ignored') {
    warnings.push(`flag --${spec.name}=${value} is ignored: ${spec.help}`);
  }
}
