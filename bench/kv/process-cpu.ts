/**
 * CPU time of whole processes over a measured window, from Linux's /proc/<pid>/stat: utime +
 * stime, which for a process covers all its threads (the kernel folds in those that exited).
 * The kv suite reads it in the client process at the edges of each level's window, for the
 * client itself and for every server process, so that a rate can be read against what it cost
 * each side. /proc counts in clock ticks (USER_HZ, 100 a second on Linux): a figure is exact to
 * 10 ms of CPU, which over a window of seconds is well under a percent of a busy process.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Why CPU figures are missing on this machine, or undefined where /proc/<pid>/stat can be read. */
export function procUnavailableReason(): string | undefined {
  return fs.existsSync('/proc/self/stat') ? undefined : 'no /proc/<pid>/stat here (Linux only): CPU per operation not measured';
}

let ticksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK), through getconf: Node does not expose sysconf. */
function clockTicksPerSecond(): number {
  if (ticksPerSecond !== undefined) return ticksPerSecond;
  const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
  const n = Number(out);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`getconf CLK_TCK said ${JSON.stringify(out)}, not a positive integer`);
  ticksPerSecond = n;
  return n;
}

/** utime + stime, in clock ticks, of the text of a /proc/<pid>/stat file. */
export function statCpuTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces or ')': fields are counted
  // from the last ')'. After it come field 3 (state) onwards; utime and stime are fields 14, 15.
  const close = stat.lastIndexOf(')');
  const fields = close < 0 ? [] : stat.slice(close + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (fields.length < 13 || !Number.isSafeInteger(utime) || !Number.isSafeInteger(stime)) {
    throw new Error(`not a /proc/<pid>/stat line with utime and stime: ${JSON.stringify(stat.slice(0, 200))}`);
  }
  return utime + stime;
}

/** User + system CPU the process `pid` has used so far, all threads, in µs. */
export function processCpuMicros(pid: number): number {
  return (statCpuTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1e6) / clockTicksPerSecond();
}

/** The processes whose CPU a window counts. */
export interface CpuSubjects {
  client: number;
  /** One pid per member, in the members' order; several members may share one process (the floor). */
  members: readonly number[];
  /** Index into `members` of the member the client sends its writes and reads to. */
  leader: number;
}

/** CPU used by each side during one window, in µs. */
export interface WindowCpu {
  wallMs: number;
  client: number;
  /** Every distinct server process, summed (a process that serves several members counted once). */
  servers: number;
  /** The leader's process. */
  leader: number;
  /** How many distinct processes `servers` sums. */
  serverProcesses: number;
}

/** A window being measured: `stop()` reads every process again and gives the difference. */
export interface CpuWindow {
  stop(): WindowCpu;
}

/** Starts a window: reads every subject's CPU now. Throws if a process is gone. */
export function startCpuWindow(subjects: CpuSubjects): CpuWindow {
  const servers = [...new Set(subjects.members)];
  const leaderPid = subjects.members[subjects.leader];
  if (leaderPid === undefined) throw new Error(`leader index ${subjects.leader} is not among ${subjects.members.length} members`);
  const read = (): { at: number; client: number; servers: number[] } => ({
    at: performance.now(),
    client: processCpuMicros(subjects.client),
    servers: servers.map(processCpuMicros),
  });
  const before = read();
  return {
    stop: () => {
      const after = read();
      const used = servers.map((_, i) => after.servers[i]! - before.servers[i]!);
      return {
        wallMs: after.at - before.at,
        client: after.client - before.client,
        servers: used.reduce((a, b) => a + b, 0),
        leader: used[servers.indexOf(leaderPid)]!,
        serverProcesses: servers.length,
      };
    },
  };
}
