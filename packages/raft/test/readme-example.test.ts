import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test, vi } from 'vitest';

// The package README's example is the first code a user runs: keep it working.
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(pkgDir, 'test', '.readme-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('the README example elects itself, commits and applies a proposal', async () => {
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  expect(block).not.toBeNull();
  // The example ends by ticking forever; the timer is not part of what we check.
  const code = block![1]!.replace(/^setInterval\(.*$/m, '');
  const file = join(tmp, 'example.ts');
  writeFileSync(file, code);
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  await import(file);
  expect(log).toHaveBeenCalledWith('applied', 'hello');
  log.mockRestore();
});
