/**
 * What a result was measured on: numbers from two machines are only comparable side by side
 * when the report says which machine and which commit produced each.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryGiB: number;
  platform: string;
  arch: string;
  nodeVersion: string;
  v8Version: string;
  gitCommit: string;
  /** Whether the work tree had uncommitted changes: the commit alone does not describe it then. */
  gitDirty: boolean;
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined; // not a checkout (a tarball, a container without git)
  }
}

export function machineInfo(repoDir: string): MachineInfo {
  const cpus = os.cpus();
  const status = git(['status', '--porcelain', '--untracked-files=no'], repoDir);
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    gitCommit: git(['rev-parse', 'HEAD'], repoDir) ?? 'unknown',
    gitDirty: status !== undefined && status !== '',
  };
}

export function describeMachine(m: MachineInfo): string {
  const commit = m.gitCommit === 'unknown' ? 'unknown' : m.gitCommit.slice(0, 12);
  return (
    `${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB; Node ${m.nodeVersion} (V8 ${m.v8Version}); ` +
    `${m.platform} ${m.arch}; commit ${commit}${m.gitDirty ? ' (dirty)' : ''}`
  );
}
