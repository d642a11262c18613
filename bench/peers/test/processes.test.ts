import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProcessGroup, freePorts } from '../processes.js';

describe('ProcessGroup', () => {
  it('stops the processes it started and removes its temp dirs on close', async () => {
    const group = new ProcessGroup();
    const dir = group.tempDir('test');
    fs.writeFileSync(`${dir}/file`, 'x');
    // `sleep` ignores nothing: SIGTERM ends it.
    const child = group.spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await group.close();
    expect(await exited).toBe('SIGTERM');
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('sends SIGKILL to a process that ignores SIGTERM', async () => {
    const group = new ProcessGroup();
    const child = group.spawn('sh', ['-c', "trap '' TERM; echo up; sleep 30"], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await group.close();
    expect(await exited).toBe('SIGKILL');
  });
});

describe('freePorts', () => {
  it('returns distinct ports', async () => {
    const ports = await freePorts(6);
    expect(new Set(ports).size).toBe(6);
    for (const p of ports) expect(p).toBeGreaterThan(0);
  });
});
