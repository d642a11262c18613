import { describe, expect, it } from 'vitest';
import { processCpuMicros, procUnavailableReason, startCpuWindow, statCpuTicks } from '../process-cpu.js';

/** A stat line as Linux writes it, with a command name holding a space and a ')'. */
function statLine(comm: string, utime: number, stime: number): string {
  // Fields 3..13, then utime (14) and stime (15), then the rest.
  const before = ['S', '1', '1', '1', '0', '-1', '4194304', '99', '0', '0', '0'];
  return `4242 (${comm}) ${[...before, String(utime), String(stime), '0', '0', '20', '0', '1'].join(' ')}\n`;
}

/** Where the CPU burner's result goes, so that its loop is not optimised away. */
const sink = new Float64Array(1);

describe('process CPU from /proc', () => {
  it('reads utime + stime after the last parenthesis, whatever the command name holds', () => {
    expect(statCpuTicks(statLine('node', 120, 30))).toBe(150);
    expect(statCpuTicks(statLine('a b) c', 7, 5))).toBe(12);
    expect(() => statCpuTicks('4242 (node) S 1 2')).toThrow(/utime and stime/);
    expect(() => statCpuTicks('garbage')).toThrow(/utime and stime/);
  });

  it.runIf(procUnavailableReason() === undefined)('counts the CPU this process burns inside a window', () => {
    const window = startCpuWindow({ client: process.pid, members: [process.pid, process.pid, process.pid], leader: 1 });
    const before = processCpuMicros(process.pid);
    // Burn CPU until the counter moves (it moves in clock ticks), bounded in case it never does.
    const until = Date.now() + 10_000;
    let x = 0;
    do for (let i = 0; i < 1e5; i++) x += Math.sqrt(i);
    while (processCpuMicros(process.pid) === before && Date.now() < until);
    sink[0] = x;
    const used = window.stop();
    expect(used.client).toBeGreaterThan(0);
    // One process behind three members is counted once, and it is the leader's.
    expect(used.serverProcesses).toBe(1);
    expect(used.servers).toBe(used.leader);
    expect(used.wallMs).toBeGreaterThan(0);
  });

  it.runIf(procUnavailableReason() === undefined)('fails a window whose process is gone, rather than counting 0', () => {
    expect(() => startCpuWindow({ client: process.pid, members: [2 ** 22 + 1], leader: 0 })).toThrow();
  });
});
