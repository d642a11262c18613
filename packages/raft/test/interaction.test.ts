/**
 * Whole-cluster scenarios replayed against RawNodes: etcd raft's interaction scenarios
 * (conformance) and our own, one test per file.
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeMismatch, runDatadrivenText } from './conformance/datadriven.js';
import { normalizeInteractionOutput } from './conformance/interaction-compare.js';
import { interactionHandler } from './conformance/interaction-env.js';
import { runSuiteFile, suiteFiles, suites } from './conformance/suites.js';

const ETCD_DIR = fileURLToPath(new URL('../../../../shared/conformance/etcd-raft/interaction/', import.meta.url));
const OUR_DIR = fileURLToPath(new URL('./scenarios/interaction/', import.meta.url));

function defineFileTests(dir: string): void {
  const files = suiteFiles(dir);
  // A missing folder (a moved checkout, a wrong path) must fail, not pass with nothing run.
  it(`finds scenario files in ${basename(dir)}`, () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const file of files) {
    it(basename(file), () => {
      const results = runSuiteFile(suites.interaction!, file);
      const failures = results.filter((r) => !r.ok).map((r) => describeMismatch(r));
      expect(failures.join('\n\n')).toBe('');
      expect(results.length).toBeGreaterThan(0);
    });
  }
}

describe('etcd raft interaction scenarios', () => defineFileTests(ETCD_DIR));
describe('pontoon interaction scenarios', () => defineFileTests(OUR_DIR));

describe('interaction harness', () => {
  // Outputs as etcd's harness prints them: errors as etcd's error text, "ok" for no output.
  const scenario = `
add-nodes 1
----
ok

propose 1 foo
----
raft proposal dropped

deliver-msgs 1
propose 1 foo
----
no messages
raft proposal dropped

log-level none
----
ok

propose 1 foo
----
raft proposal dropped

log-level info
----
ok

raft-log 1
----
log is empty: first index=1, last index=0

process-append-thread 1
----
no append work to perform

frobnicate
----
unknown command

log-level verbose
----
log levels must be either of [DEBUG INFO WARN ERROR FATAL NONE]

add-nodes 1 voters=(1) index=1
----
index must be specified as > 1 due to bootstrap

stabilize log-level=none
----
ok
`;

  it('prints errors and empty outputs as etcd does', () => {
    const results = runDatadrivenText(scenario, 'harness', interactionHandler(), normalizeInteractionOutput);
    expect(results.filter((r) => !r.ok).map((r) => describeMismatch(r)).join('\n\n')).toBe('');
    expect(results).toHaveLength(12);
  });

  it('fails a scenario whose expected output differs', () => {
    const results = runDatadrivenText('add-nodes 1\n----\nok\n\nraft-state\n----\n1: StateLeader (Non-Voter) Term:0 Lead:0\n', 'bad', interactionHandler(), normalizeInteractionOutput);
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    expect(results[1]!.actual).toBe('1: StateFollower (Non-Voter) Term:0 Lead:0\n');
  });
});
