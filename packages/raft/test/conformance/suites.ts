/**
 * The datadriven suites we can replay, by the name of the folder that holds their files
 * (etcd's layout: quorum/, confchange/, interaction/). Each file gets a fresh handler.
 */
import { readdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runDatadrivenFile, type CaseResult, type DatadrivenHandler } from './datadriven.js';
import { interactionHandler } from './interaction-env.js';
import { normalizeInteractionOutput } from './interaction-compare.js';
import { quorumHandler } from './quorum-handler.js';
import { confChangeHandler } from './confchange-handler.js';

export interface Suite {
  /** A handler for one file (its state lives as long as the file runs). */
  newHandler: () => DatadrivenHandler;
  /** How outputs are normalized before comparison; default: log lines stripped. */
  normalize?: (s: string) => string;
}

export const suites: Record<string, Suite> = {
  quorum: { newHandler: quorumHandler },
  confchange: { newHandler: confChangeHandler },
  interaction: { newHandler: () => interactionHandler(), normalize: normalizeInteractionOutput },
};

/** The scenario files of a suite folder (`.txt`), sorted; none if the folder does not exist. */
export function suiteFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => join(dir, f));
}

/** Runs one scenario file with a fresh handler of `suite`. */
export function runSuiteFile(suite: Suite, path: string): CaseResult[] {
  return runDatadrivenFile(path, suite.newHandler(), suite.normalize);
}
