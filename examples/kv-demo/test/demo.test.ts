/**
 * The README's demo, run as a reader runs it (the root package.json's `demo` script, stdout not
 * a terminal): it tells its story in plain lines, exits 0, and leaves no process or folder
 * behind; interrupted with SIGINT, it cleans up the same way and exits 130.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** A run takes well under a minute on a quiet machine; this bounds a run on a very loaded one. */
const RUN_LIMIT_MS = 480_000;

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the root `demo` script as pnpm would, with the workspace's binaries on PATH, in a
 * process group of its own, so that a signal to the group is what Ctrl-C on a terminal sends.
 */
function runDemo(): Run {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const child = spawn('sh', ['-c', `exec ${pkg.scripts['demo']!}`], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env['PATH'] ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // Done once the process has exited and its output is closed: every process that held it
  // (the demo under tsx) is gone.
  const closed = new Promise<void>((resolve) => child.stdout!.once('close', () => resolve()));
  const exited = Promise.all([
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    closed,
  ]).then(([result]) => result);
  const limit = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), RUN_LIMIT_MS);
  void exited.then(() => clearTimeout(limit));
  return { child, output: () => out, exited };
}

/** The pids the demo printed for its members ("(pid 123, ..."). */
function memberPids(out: string): number[] {
  return [...out.matchAll(/\(pid (\d+), 127\.0\.0\.1:\d+\)/g)].map((m) => Number(m[1]));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The demo's temporary folder, from its "data in" line. */
function dataDir(out: string): string {
  const m = /\] data in (\S+)$/m.exec(out);
  if (m === null) throw new Error(`no "data in" line in:\n${out}`);
  return m[1]!;
}

async function waitFor(run: Run, text: RegExp): Promise<void> {
  const deadline = Date.now() + RUN_LIMIT_MS;
  while (!text.test(run.output())) {
    if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`no line matching ${text} in:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the README demo (npx -y pnpm@10 demo)', () => {
  it('runs the whole story, checks every acknowledged write, exits 0 and cleans up', async () => {
    const run = runDemo();
    const { code } = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);
    expect(out).not.toMatch(/\x1b\[/); // not a terminal: plain lines, no status line
    const lines = out.split('\n');
    const line = (re: RegExp): string => {
      const found = lines.find((l) => re.test(l));
      expect(found, `a line matching ${re} in:\n${out}`).toBeDefined();
      return found!;
    };

    line(/started m0 \(pid \d+, 127\.0\.0\.1:\d+\), m1 \(pid \d+, .*\), m2 \(pid \d+, .*\): each logged "ready to serve client requests"/);
    const first = /(m\d) is the leader \(raft term (\d+)\)/.exec(line(/is the leader/))!;
    expect(lines.filter((l) => /discovery: \+ 127\.0\.0\.1:\d+ joined at revision \d+/.test(l))).toHaveLength(3);
    const watch = /a watcher follows that prefix from revision (\d+) through (m\d)/.exec(line(/a watcher follows/))!;
    expect(watch[2]).toBe(first[1]);

    // The leader killed; the watcher's stream was on it and resumes elsewhere, right after the
    // last revision it received; a new leader in a later term.
    const kill = /SIGKILL (m\d), the leader; the instance (127\.0\.0\.1:\d+) crashes with it/.exec(line(/SIGKILL/))!;
    const resumed = /the stream to (m\d) broke after revision (\d+); resumed on (m\d) from revision (\d+)/.exec(line(/resumed on/))!;
    expect(resumed[1]).toBe(kill[1]);
    expect(resumed[3]).not.toBe(kill[1]);
    expect(Number(resumed[4])).toBe(Number(resumed[2]) + 1);
    const next = /(m\d) is the new leader \(raft term (\d+)\)/.exec(line(/is the new leader/))!;
    expect(next[1]).not.toBe(kill[1]);
    expect(Number(next[2])).toBeGreaterThan(Number(first[2]));

    // The crashed instance leaves discovery through its lease's expiry, and only it.
    const left = lines.filter((l) => /discovery: − /.test(l));
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(new RegExp(`− ${kill[2]!.replace(/\./g, '\\.')} left at revision \\d+: its lease expired`));
    expect(left[0]).toMatch(/→ 2 instances$/);

    line(/saved a snapshot from m\d \(Maintenance\.Snapshot\) to backup\.db: \d+ KiB, its SHA-256 trailer checks/);
    line(/pontoon-kv snapshot restore backup\.db into a new data dir; started r0 \(pid \d+, 127\.0\.0\.1:\d+\), a one-member cluster: ready/);
    const restoredCheck = /✓ r0 holds all (\d+) writes acknowledged before the snapshot; m\d and m\d hold all (\d+) acknowledged writes/.exec(line(/✓ r0 holds/))!;
    expect(Number(restoredCheck[1])).toBeGreaterThan(0);
    expect(Number(restoredCheck[2])).toBeGreaterThanOrEqual(Number(restoredCheck[1]));
    line(new RegExp(`✓ watcher: \\d+ events, revisions ${watch[1]}\\.\\.\\d+, none missing, none twice .*across the resume on ${resumed[3]} at revision ${resumed[4]}`));

    // Cleaned up: every member process gone (three members and r0), the folder removed.
    const dir = dataDir(out);
    line(new RegExp(`stopped the members and removed ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    const pids = memberPids(out);
    expect(pids).toHaveLength(4);
    for (const pid of pids) expect(isRunning(pid), `pid ${pid}`).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
  }, RUN_LIMIT_MS + 30_000);

  it('on SIGINT, stops its members, removes its folder and exits 130', async () => {
    const run = runDemo();
    await waitFor(run, /a watcher follows that prefix/);
    const out = run.output();
    process.kill(-run.child.pid!, 'SIGINT'); // Ctrl-C: the whole group, members included
    const { code, signal } = await run.exited;
    const all = run.output();
    expect(all).toContain('SIGINT: stopping');
    expect({ code, signal }, all).toEqual({ code: 130, signal: null });
    for (const pid of memberPids(out)) expect(isRunning(pid), `pid ${pid}`).toBe(false);
    expect(fs.existsSync(dataDir(out))).toBe(false);
  }, RUN_LIMIT_MS + 30_000);
});
