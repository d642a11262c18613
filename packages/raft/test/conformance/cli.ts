/**
 * Replays datadriven conformance suites and reports per file:
 *
 *     pnpm --filter @pontoon/raft conformance [<dir>] [-v]
 *
 * <dir> holds suite folders (quorum/, confchange/, interaction/: those present are run), or is
 * itself one of them. Default: etcd raft's scenarios in /work/shared/conformance/etcd-raft.
 * Prints PASS/FAIL per file with the first differing lines of each failed case (-v: all failed
 * cases, not only the first), and exits non-zero if any file fails.
 */
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMismatch, type CaseResult } from './datadriven.js';
import { runSuiteFile, suiteFiles, suites } from './suites.js';

const DEFAULT_DIR = fileURLToPath(new URL('../../../../../shared/conformance/etcd-raft/', import.meta.url));

function main(argv: string[]): number {
  const verbose = argv.includes('-v');
  const positional = argv.filter((a) => a !== '-v' && a !== '--');
  const dir = resolve(positional[0] ?? DEFAULT_DIR);

  const runs: { name: string; dir: string }[] = [];
  const own = basename(dir);
  if (suites[own] !== undefined) {
    runs.push({ name: own, dir });
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
