/**
 * The README's example (its first ts block) runs as written and prints what it says it prints.
 * It runs in a process of its own, which must also exit by itself: the example ends with
 * close(), which promises that no socket or timer is left behind.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(path.join(tmpdir(), 'pontoon-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first code block of `language` in a markdown text. */
function firstBlock(markdown: string, language: string): string {
  const m = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(markdown);
  if (m === null) throw new Error(`no ${language} block in the README`);
  return m[1]!;
}

/**
 * The source file of a workspace package's entry point (`subpath` '.' or './core'), as its
 * exports map gives it (condition @pontoon/source).
 */
function sourceEntry(name: string, subpath: string): string {
  const root = name === '@pontoon/transport-tcp' ? packageDir : path.join(packageDir, 'node_modules', name);
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, { '@pontoon/source': string }>;
  };
  const entry = manifest.exports[subpath];
  if (entry === undefined) throw new Error(`${name} exports no ${subpath}`);
  return path.join(root, entry['@pontoon/source']);
}

function run(file: string): Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@pontoon/source', file],
      // From the package, so that tsx resolves; killed if it does not exit by itself.
      { cwd: packageDir, timeout: 20_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error.code as number | null), killed: error?.killed === true, stdout, stderr }),
    );
  });
}

describe('README', () => {
  it('runs its example, which prints what it says and leaves nothing running', async () => {
    const example = firstBlock(readFileSync(path.join(packageDir, 'README.md'), 'utf8'), 'ts');
    // It imports the packages by name, as a user would; from a temporary file, by path.
    const program = example.replace(
      /from '(@pontoon\/[a-z-]+)(\/[a-z-]+)?'/g,
      (_, name: string, sub: string | undefined) => `from '${pathToFileURL(sourceEntry(name, `.${sub ?? ''}`)).href}'`,
    );
    expect(program).not.toContain("from '@pontoon/");
    const file = path.join(dir, 'example.mts'); // an ES module (top-level await) wherever it is
    writeFileSync(file, program);
    const { code, killed, stdout, stderr } = await run(file);
    expect(killed, 'the example did not exit by itself within 20 s: something left running').toBe(false);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [first, ...rest] = stdout.trimEnd().split('\n');
    expect(first).toBe('node 2 received MsgHeartbeat');
    // console.log of a.stats().peers[2]: one message out, nothing in, nothing dropped.
    const stats = rest.join('\n');
    for (const field of ['messagesOut: 1', 'messagesIn: 0', 'bytesIn: 0', 'dropped: 0', 'reconnects: 0', 'snapshotsSent: 0', 'snapshotsFailed: 0']) {
      expect(stats).toContain(field);
    }
    expect(stats).toMatch(/bytesOut: [1-9]\d*/);
    expect(stdout).not.toContain('were dropped');
  });
});
