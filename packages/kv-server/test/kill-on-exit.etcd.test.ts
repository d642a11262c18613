/**
 * The testing helpers' member processes die with the test process that started them, however
 * it ends: a process.exit() without stop(), or an uncaught error.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixture = path.join(packageDir, 'test/fixtures/abandoned-cluster.ts');

/** The pids of running processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}

async function leftBehind(dirs: readonly string[], waitMs: number): Promise<number[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const pids = dirs.flatMap(processesMentioning);
    if (pids.length === 0 || Date.now() > deadline) return pids;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function runFixture(mode: 'exit' | 'throw'): Promise<{ dirs: string[]; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--conditions=@pontoon/source', '--import', 'tsx', fixture, mode],
      { cwd: packageDir, timeout: 120_000 },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('['));
        if (line === undefined) {
          reject(new Error(`the fixture printed no data directories: ${String(err)}\n${stderr}`));
          return;
        }
        resolve({ dirs: JSON.parse(line) as string[], code: child.exitCode });
      },
    );
  });
}

describe('testing helpers: members die with the test process', () => {
  it.each(['exit', 'throw'] as const)('after %s without stop(), no pontoon-kv or etcd member is left running', async (mode) => {
    const { dirs, code } = await runFixture(mode);
    expect(code).toBe(mode === 'exit' ? 0 : 1);
    expect(dirs).toHaveLength(2);
    // Both kinds of member ran with their data directory on the command line.
    for (const d of dirs) expect(d).toMatch(/\.etcd$|m0$/);
    const left = await leftBehind(dirs, 10_000);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    for (const d of dirs) fs.rmSync(path.dirname(d), { recursive: true, force: true });
    expect(left).toEqual([]);
  }, 180_000);
});
