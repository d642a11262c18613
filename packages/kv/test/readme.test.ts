/** The README's opening example runs, as written, against this package. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('runs the README example', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const logged: unknown[][] = [];
  const file = fileURLToPath(new URL(`./.readme-example-${process.pid}.ts`, import.meta.url));
  const source = code.replace("from '@pontoon/kv'", "from '../src/index.js'").replace(/console\.log\(/g, 'globalThis.__readmeLog(');
  (globalThis as unknown as { __readmeLog: (...args: unknown[]) => void }).__readmeLog = (...args) => logged.push(args);
  writeFileSync(file, source);
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    rmSync(file, { force: true });
  }
  expect(logged).toHaveLength(1);
  const [succeeded, oldValue, hash] = logged[0]!;
  expect(succeeded).toBe(true);
  expect(oldValue).toBe('1');
  expect(typeof hash).toBe('number');
});
