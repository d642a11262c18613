/**
 * Every history of Porcupine's conformance set gets the verdict Porcupine gives it, within the
 * 10 s bound the issue sets.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLinearizabilitySync } from '../../src/linearizability/check.js';
import { registerModel } from '../../src/linearizability/models/register.js';
import { kvModel } from '../../src/linearizability/models/kv.js';
import { parseJepsenLog } from '../../src/history-formats/jepsen-log.js';
import { parseEdnKvHistory } from '../../src/history-formats/edn-kv.js';
import { porcupineDir } from './conformance-files.js';

const verdicts = JSON.parse(readFileSync(path.join(porcupineDir, 'verdicts.json'), 'utf8')) as Record<string, boolean>;
const BOUND_MS = 10_000;

describe('Porcupine conformance histories', () => {
  it('lists both formats', () => {
    const files = Object.keys(verdicts);
    expect(files.some((f) => f.startsWith('jepsen/'))).toBe(true);
    expect(files.some((f) => f.startsWith('kv/'))).toBe(true);
  });

  for (const [file, linearizable] of Object.entries(verdicts)) {
    it(`${file} is ${linearizable ? 'linearizable' : 'not linearizable'}`, () => {
      const text = readFileSync(path.join(porcupineDir, file), 'utf8');
      const result = file.startsWith('jepsen/')
        ? checkLinearizabilitySync(registerModel, parseJepsenLog(text), { timeoutMs: BOUND_MS })
        : checkLinearizabilitySync(kvModel, parseEdnKvHistory(text), { timeoutMs: BOUND_MS });
      expect(result.verdict).toBe(linearizable ? 'ok' : 'illegal');
      if (!linearizable) {
        expect(result.counterexample).toBeDefined();
        expect(result.counterexample!.prefix.map((p) => p.operation)).toContain(result.counterexample!.culprit.operation);
      }
    });
  }
});
