import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test, vi } from 'vitest';

// The RaftNode example of the package README: keep it working.
const pkgDir = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(pkgDir, 'test', '.readme-node-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('the README RaftNode example proposes and reads through a 3-node cluster', async () => {
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const code = blocks.find((b) => b.includes('new RaftNode('));
  expect(code).toBeDefined();
  const file = join(tmp, 'example.ts');
  writeFileSync(file, code!);
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  await import(file);
  expect(log.mock.calls).toEqual([[5], [5]]);
  log.mockRestore();
});
