/** The README's examples run, as written, against this package. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/** Runs the README's `n`th ts block and returns what it logged. */
async function runReadmeBlock(n: number): Promise<unknown[][]> {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const code = blocks[n]!;
  const logged: unknown[][] = [];
  const file = fileURLToPath(new URL(`./.readme-example-${process.pid}-${n}.ts`, import.meta.url));
  const source = code
    .replace("from '@pontoon/kv'", "from '../src/index.js'")
    .replace("from '@pontoon/transport-tcp'", "from '../../transport-tcp/src/index.js'")
    .replace(/console\.log\(/g, 'globalThis.__readmeLog(');
  (globalThis as unknown as { __readmeLog: (...args: unknown[]) => void }).__readmeLog = (...args) => logged.push(args);
  writeFileSync(file, source);
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    rmSync(file, { force: true });
  }
  return logged;
}

it('runs the README\'s opening example: a 3-member cluster over TCP', { timeout: 60_000 }, async () => {
  const logged = await runReadmeBlock(0);
  expect(logged).toHaveLength(1);
  const [kvs, revision, events, localCount] = logged[0]!;
  expect(kvs).toEqual(['config/mode=blue', 'config/owner=m1']);
  expect(revision).toBe(3);
  expect(events).toEqual(['put config/mode', 'put config/owner']);
  expect(localCount).toBe(1);
});

it('runs the README example of the store alone', async () => {
  const logged = await runReadmeBlock(1);
  expect(logged).toHaveLength(1);
  const [succeeded, oldValue, hash] = logged[0]!;
  expect(succeeded).toBe(true);
  expect(oldValue).toBe('1');
  expect(typeof hash).toBe('number');
});
