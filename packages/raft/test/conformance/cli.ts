/**
 * Replays datadriven conformance suites and reports per file:
 *
 *     pnpm --filter @pontoon/raft conformance [<dir>] [-v]
 *
 * <dir> holds suite folders (quorum/, confchange/, interaction/: those present are run), or is
 * itself one of them; a relative <dir> is taken from the directory pnpm was started in (pnpm
 * runs the script in packages/raft). Default: etcd raft's scenarios in
 * ../shared/conformance/etcd-raft beside the repository.
 * Prints PASS/FAIL per file with the first differing lines of each failed case (-v: all failed
 * cases, not only the first), and exits non-zero if any file fails.
 */
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMismatch, type CaseResult } from './datadriven.js';
import { runSuiteFile, suiteFiles, suites } from './suites.js';

const DEFAULT_DIR = fileURLToPath(new URL('../../../../../shared/conformance/etcd-raft/', import.meta.url));
/** Where the user typed the command: pnpm sets INIT_CWD to it before changing to the package. */
const CALLER_DIR = process.env['INIT_CWD'] ?? process.cwd();

function main(argv: string[]): number {
  const verbose = argv.includes('-v');
  const positional = argv.filter((a) => a !== '-v' && a !== '--');
  const dir = positional[0] === undefined ? DEFAULT_DIR : resolve(CALLER_DIR, positional[0]);

  const runs: { name: string; dir: string }[] = [];
  const own = basename(dir);
  if (suites[own] !== undefined) {
    if (suiteFiles(dir).length > 0) runs.push({ name: own, dir });
  } else {
    for (const name of Object.keys(suites)) {
      const sub = resolve(dir, name);
      if (suiteFiles(sub).length > 0) runs.push({ name, dir: sub });
    }
  }
  if (runs.length === 0) {
    console.error(`no suite folders (${Object.keys(suites).join(', ')}) with .txt files under ${dir}`);
    return 2;
  }

  let passedFiles = 0;
  let failedFiles = 0;
  for (const run of runs) {
    const suite = suites[run.name]!;
    for (const file of suiteFiles(run.dir)) {
      let results: CaseResult[];
      try {
        results = runSuiteFile(suite, file);
      } catch (e) {
        failedFiles++;
        console.log(`FAIL ${run.name}/${basename(file)}: ${(e as Error).stack ?? String(e)}`);
        continue;
      }
      const failed = results.filter((r) => !r.ok);
      const ok = results.length - failed.length;
      if (failed.length === 0) {
        passedFiles++;
        console.log(`PASS ${run.name}/${basename(file)} (${ok}/${results.length} cases)`);
        continue;
      }
      failedFiles++;
      console.log(`FAIL ${run.name}/${basename(file)} (${ok}/${results.length} cases)`);
      for (const r of verbose ? failed : failed.slice(0, 1)) {
        console.log(indent(describeMismatch(r)));
      }
    }
  }
  console.log(`\n${passedFiles} passed, ${failedFiles} failed`);
  return failedFiles === 0 ? 0 : 1;
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

process.exitCode = main(process.argv.slice(2));
