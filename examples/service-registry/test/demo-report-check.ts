import { expect } from 'vitest';
import type { ServiceRegistryDemoReport } from '../registry-demo.js';

/**
 * What a registry promises, checked on what the demo saw (against pontoon-kv or etcd alike).
 * `lines` is the demo's output, shown when a check fails.
 */
export function checkDemoReport(report: ServiceRegistryDemoReport, lines: readonly string[]): void {
  const context = `demo output:\n${lines.join('\n')}`;
  // Every call succeeded: a call that hit an instance going away was retried to a live one.
  expect(report.failed, context).toEqual([]);
  expect(report.calls, context).toBeGreaterThan(0);

  expect(report.phases.map((p) => p.name), context).toEqual(['two instances', 'a third starts', 'one stopped', 'one crashed', 'a new one starts']);
  expect(report.phases.map((p) => p.live.length), context).toEqual([2, 3, 2, 1, 2]);
  // Calls spread over every live instance, and only over live ones.
  for (const phase of report.phases) {
    expect([...phase.answered.keys()].sort(), `${phase.name}\n${context}`).toEqual([...phase.live].sort());
  }
  const [two, three, stopped, crashed, renewed] = report.phases;
  // The third instance was picked up; the stopped and crashed ones left; a new one was picked up.
  expect(three!.live.filter((a) => !two!.live.includes(a)), context).toHaveLength(1);
  expect(stopped!.live, context).not.toContain(report.stopped.address);
  expect(crashed!.live, context).not.toContain(report.crashed.address);
  expect(renewed!.live.filter((a) => !crashed!.live.includes(a)), context).toHaveLength(1);
  expect(renewed!.live, context).not.toContain(report.crashed.address);

  // The stopped instance's key was gone by the time stop() returned: it left by deregistering.
  expect(report.stopped.leftAt, context).toBeLessThanOrEqual(report.stopped.writtenAfterStop);
  // The crashed instance's key outlived the crash, and went with its lease's expiry.
  expect(report.crashed.leftAt, context).toBeGreaterThan(report.crashed.writtenAfterCrash);
  expect(report.crashed.leaseTtlAfter, context).toBe(-1);
}
