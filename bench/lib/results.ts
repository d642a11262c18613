/** Writes a suite's results as JSON under bench/results/ (gitignored), one file per run. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MachineInfo } from './machine.js';

export interface ResultFile {
  suite: string;
  startedAt: string;
  machine: MachineInfo;
  options: unknown;
  results: unknown;
}

/** Returns the path written. */
export function writeResults(resultsDir: string, file: ResultFile): string {
  mkdirSync(resultsDir, { recursive: true });
  // Timestamps with ':' are not valid file names everywhere.
  const stamp = file.startedAt.replace(/[:.]/g, '-');
  const out = path.join(resultsDir, `${file.suite}-${stamp}.json`);
  writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
  return out;
}
