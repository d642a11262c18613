/**
 * Entry point of `pnpm --filter @pontoon/sim check <file> [--model register|kv] [--timeout-ms N]`
 * (see linearizability/check-command.ts). Exit status: 0 linearizable, 1 not, 2 unknown (time
 * bound hit), 64 usage or unreadable file.
 */
import { runCheckCommand } from '../linearizability/check-command.js';

process.exitCode = await runCheckCommand(
  process.argv.slice(2),
  (s) => process.stdout.write(s),
  (s) => process.stderr.write(s),
);
