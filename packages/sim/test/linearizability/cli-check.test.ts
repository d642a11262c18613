/** The `check` command, run as a user runs it: exit codes and what it prints. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheckCommand } from '../../src/linearizability/check-command.js';
import { porcupineDir, repoRoot } from './conformance-files.js';

const simDir = path.join(repoRoot, 'packages/sim');
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCheck(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      tsx,
      ['--conditions=@pontoon/source', 'src/cli/check.ts', ...args],
      { cwd: simDir, env: { ...process.env, INIT_CWD: '', ...env }, timeout: 50_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

// n concurrent appends then a get no order produces: n! states to rule out.
function slowHistory(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`{:process ${i}, :type :invoke, :f :append, :key "k", :value "${String.fromCharCode(97 + i)}"}`);
  for (let i = 0; i < n; i++) lines.push(`{:process ${i}, :type :ok, :f :append, :key "k", :value "${String.fromCharCode(97 + i)}"}`);
  lines.push(`{:process ${n}, :type :invoke, :f :get, :key "k", :value nil}`, `{:process ${n}, :type :ok, :f :get, :key "k", :value "!"}`);
  return lines.join('\n');
}

async function runInProcess(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCheckCommand(args, (t) => (stdout += t), (t) => (stderr += t), repoRoot);
  return { code, stdout, stderr };
}

describe('pnpm --filter @pontoon/sim check', () => {
  let dir: string;
  const runs: Record<string, Run> = {};

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pontoon-check-'));
    writeFileSync(path.join(dir, 'garbage.bin'), Buffer.from([0, 159, 146, 150, 10, 123, 0, 255]));
    writeFileSync(path.join(dir, 'broken.edn'), '{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n{:process 0, :type :ok, :f :get');
    writeFileSync(path.join(dir, 'slow.edn'), slowHistory(14));
    // Real processes for the four outcomes, spawned together (each tsx start costs a second).
    const spawned: Record<string, [string[], Record<string, string>?]> = {
      good: [[path.join(porcupineDir, 'kv/c01-ok.txt'), '--model', 'kv']],
      bad: [['../shared/conformance/porcupine/jepsen/etcd_000.log', '--model', 'register'], { INIT_CWD: repoRoot }],
      garbage: [[path.join(dir, 'garbage.bin'), '--model', 'kv']],
      slow: [[path.join(dir, 'slow.edn'), '--model', 'kv', '--timeout-ms', '200']],
    };
    await Promise.all(
      Object.entries(spawned).map(async ([name, [args, env]]) => {
        runs[name] = await runCheck(args, env);
      }),
    );
    // The other usage errors go through the same function in this process.
    runs['broken'] = await runInProcess([path.join(dir, 'broken.edn')]);
    runs['wrongModel'] = await runInProcess([path.join(porcupineDir, 'kv/c01-ok.txt'), '--model', 'register']);
    runs['unknownModel'] = await runInProcess([path.join(porcupineDir, 'kv/c01-ok.txt'), '--model', 'queue']);
    runs['badTimeout'] = await runInProcess([path.join(porcupineDir, 'kv/c01-ok.txt'), '--timeout-ms', '-3']);
    runs['noFile'] = await runInProcess([]);
    runs['missing'] = await runInProcess([path.join(dir, 'nope.txt')]);
    runs['relative'] = await runInProcess(['../shared/conformance/porcupine/kv/c01-bad.txt']);
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 for a linearizable history and says so', () => {
    expect(runs['good']!.code).toBe(0);
    expect(runs['good']!.stdout).toMatch(/verdict: linearizable/);
    expect(runs['good']!.stdout).toMatch(/time: [\d.]+ ms/);
    expect(runs['good']!.stdout).toMatch(/operations: \d+ \(0 of unknown outcome\), partitions: \d+/);
  });

  it('exits 1 for a violation and prints the shortest non-linearizable prefix', () => {
    expect(runs['bad']!.code).toBe(1);
    expect(runs['bad']!.stdout).toMatch(/verdict: NOT linearizable/);
    expect(runs['bad']!.stdout).toMatch(/shortest non-linearizable prefix/);
    expect(runs['bad']!.stdout).toMatch(/read\(\) -> \d+ {2}<- cannot be linearized/);
  });

  it('resolves a relative path against the directory pnpm was started in', () => {
    expect(runs['bad']!.stdout).toContain(path.join(porcupineDir, 'jepsen/etcd_000.log'));
    expect(runs['relative']!.code).toBe(1);
    expect(runs['relative']!.stdout).toMatch(/get\(.*<- cannot be linearized/);
  });

  it('exits 2 when the time bound is hit', () => {
    expect(runs['slow']!.code).toBe(2);
    expect(runs['slow']!.stdout).toMatch(/verdict: unknown \(time bound hit/);
  });

  it('exits 64 with a message, not a stack trace, for a garbage file', () => {
    expect(runs['garbage']!.code).toBe(64);
    expect(runs['garbage']!.stderr).toMatch(/^error: .*not a history file/);
    expect(runs['garbage']!.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 64 with a message for every other usage or parse error', () => {
    for (const name of ['broken', 'wrongModel', 'unknownModel', 'badTimeout', 'noFile', 'missing']) {
      const run = runs[name]!;
      expect(run.code, name).toBe(64);
      expect(run.stderr, name).toMatch(/^error: /);
    }
    expect(runs['broken']!.stderr).toMatch(/line 2/);
    expect(runs['wrongModel']!.stderr).toMatch(/cannot be checked with --model register/);
    expect(runs['missing']!.stderr).toMatch(/ENOENT/);
  });
});
