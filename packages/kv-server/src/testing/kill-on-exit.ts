/**
 * Member processes started by the testing helpers die with the process that started them: a test
 * file that throws, times out or exits without stopping its cluster must not leave members running
 * (they would hold ports and take CPU from every later test on the machine).
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hookInstalled = false;

/** Kills `child` with SIGKILL if it is still running when this process exits. */
export function killOnExit(child: ChildProcess): void {
  if (!hookInstalled) {
    hookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
  const forget = (): void => {
    live.delete(child);
  };
  child.once('exit', forget);
  child.once('error', forget);
}
