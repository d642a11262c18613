/**
 * Writes a suite's results under bench/results/ (gitignored), one pair of files per run: the
 * full results as JSON, and the self-contained HTML report (html-report.ts) beside it.
 */
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

/** The path of a run's files without the extension: `<dir>/<suite>-<timestamp>`. */
export function resultStem(resultsDir: string, suite: string, startedAt: string): string {
  // Timestamps with ':' are not valid file names everywhere.
  return path.join(resultsDir, `${suite}-${startedAt.replace(/[:.]/g, '-')}`);
}

/** Returns the path written. */
export function writeResults(resultsDir: string, file: ResultFile): string {
  mkdirSync(resultsDir, { recursive: true });
  const out = `${resultStem(resultsDir, file.suite, file.startedAt)}.json`;
  writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
  return out;
}

/** Writes the HTML report of the run that writeResults wrote; returns its path. */
export function writeHtml(resultsDir: string, suite: string, startedAt: string, html: string): string {
  mkdirSync(resultsDir, { recursive: true });
  const out = `${resultStem(resultsDir, suite, startedAt)}.html`;
  writeFileSync(out, html);
  return out;
}
