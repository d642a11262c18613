import { parseGoBool } from './go-values.js';
import { helpText } from './help-text.js';
import { parseEtcdArgs } from './parse-etcd-args.js';
import { type EtcdServerConfig, resolveServerConfig } from './server-config.js';
import { parseSnapshotArgs, type SnapshotRestoreArgs, type SnapshotStatusArgs } from './snapshot-args.js';

/** What `pontoon-kv ...` was asked to do. */
export type PontoonKvCommand =
  | { readonly command: 'help'; readonly text: string }
  | { readonly command: 'version' }
  | { readonly command: 'serve'; readonly config: EtcdServerConfig; readonly warnings: readonly string[] }
  | SnapshotRestoreArgs
  | SnapshotStatusArgs;

/**
 * Reads pontoon-kv's command line (`argv` without the program name) and environment:
 * `snapshot restore|status ...` as etcdctl reads them, anything else as etcd 3.4's server
 * flags and ETCD_* variables. Pure: it reads no file and prints nothing; the caller logs the
 * warnings. Throws CommandLineError (with etcd's message and exit status) on bad input.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): PontoonKvCommand {
  if (argv[0] === 'snapshot') return parseSnapshotArgs(argv.slice(1));
  const args = parseEtcdArgs(argv, env);
  if (args.help) return { command: 'help', text: helpText() };
  // etcd prints its version before it validates anything else.
  const version = args.values.get('version');
  if (args.sources.get('version') === 'flag' && version !== undefined && parseGoBool(version)) {
    return { command: 'version' };
  }
  const config = resolveServerConfig(args);
  if (config.version) return { command: 'version' };
  return { command: 'serve', config, warnings: args.warnings };
}
