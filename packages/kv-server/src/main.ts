/**
 * The `pontoon-kv` command (bin/pontoon-kv runs it): etcd 3.4's server command line, or
 * `pontoon-kv snapshot restore|status FILE`. Exit statuses as etcd's and etcdctl's.
 */
import { parseCommandLine } from './cli/command-line.js';
import { CommandLineError } from './errors.js';
import { EtcdLog } from './member/etcd-log.js';
import { serveMember } from './member/serve-member.js';
import { restoreSnapshot, snapshotStatus, formatSnapshotStatus } from './member/snapshot-file.js';
import { ETCD_VERSION } from './server/maintenance-service.js';

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommandLine(argv, process.env);
  switch (command.command) {
    case 'help':
      process.stdout.write(command.text);
      return 0;
    case 'version':
      process.stdout.write(`etcd Version: ${ETCD_VERSION}\nGit SHA: pontoon-kv\nGo Version: none (Node.js ${process.version})\nGo OS/Arch: ${process.platform}/${process.arch}\n`);
      return 0;
    case 'snapshot-status':
      process.stdout.write(formatSnapshotStatus(await snapshotStatus(command.file), command.writeOut));
      return 0;
    case 'snapshot-restore': {
      for (const w of command.warnings) process.stderr.write(`${w}\n`);
      await restoreSnapshot(command, (line) => process.stderr.write(`${line}\n`));
      return 0;
    }
    case 'serve': {
      const { config } = command;
      const log = new EtcdLog(config.logger, config.logLevel);
      for (const w of command.warnings) log.warn('etcdmain', w);
      const serving = await serveMember(config, log);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          const name = signal === 'SIGTERM' ? 'terminated' : 'interrupt';
          log.log('info', 'pkg/osutil', {
            msg: 'received signal; shutting down',
            text: `received ${name} signal, shutting down...`,
            caller: 'osutil/interrupt_unix.go:64',
            notice: true,
            fields: { signal: name },
          });
          resolve();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      await serving.close();
      // Handles of libraries (gRPC, SQLite workers) must not keep a stopped member's process alive.
      process.exit(0);
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CommandLineError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`pontoon-kv: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
