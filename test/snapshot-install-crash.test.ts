/**
 * A crash at any point of a snapshot's install leaves the old state or the new one, never a mix.
 * sqlite-map processes (examples/sqlite-map/node.ts) over TCP: n1 holds a state of 400 values
 * of 64 KiB (about 26 MiB) and has compacted its log, so each new member gets a streamed
 * snapshot. Each round a new member joins empty and is killed with SIGKILL at one phase of the
 * install, watched for in its directory: half-way through receiving (the `.part` file), with the
 * copy staged and complete but not installed (the snapshot may already be recorded in its log
 * store: the restart must install it), and just after the swap. Its map on disk, opened
 * directly, must pass SQLite's integrity check and hold either nothing (the old state) or
 * exactly the 400 values, each intact (the new one). Restarted, it catches up and is whole.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SqliteMap } from '../examples/sqlite-map/sqlite-map.js';
import { startCluster } from './support/cluster.js';

const program = fileURLToPath(new URL('../examples/sqlite-map/node.ts', import.meta.url));
const VALUES = 400;
const VALUE_BYTES = 64 * 1024;

interface MapStatus {
  position: number;
  commitIndex: number;
}

type Phase = 'receiving' | 'staged' | 'installed';

/** The install's phase, as the member's map directory shows it. */
function phaseOf(mapDir: string): Phase | 'none' {
  let files: string[];
  try {
    files = fs.readdirSync(mapDir);
  } catch {
    return 'none';
  }
  let current = '';
  try {
    current = fs.readFileSync(path.join(mapDir, 'CURRENT'), 'utf8').trim();
  } catch {
    // not created yet
  }
  if (current.startsWith('snap-')) return 'installed';
  if (files.some((f) => /^snap-.*\.sqlite$/.test(f))) return 'staged';
  const part = files.find((f) => f.endsWith('.part'));
  if (part !== undefined) {
    try {
      if (fs.statSync(path.join(mapDir, part)).size >= (VALUES * VALUE_BYTES) / 2) return 'receiving';
    } catch {
      // renamed meanwhile
    }
  }
  return 'none';
}

it('leaves the old state or the new one when a snapshot install is killed at any point', async () => {
  const c = await startCluster({ size: 1, tickMs: 50, program, snapshotEvery: 100, prefix: 'pontoon-install-crash-' });
  await c.waitForLeader();
  expect(await c.command(1, `fill ${VALUES} ${VALUE_BYTES}`)).toMatchObject({ filled: VALUES });
  await c.command(1, 'snapshot'); // the log no longer holds the writes: members need the snapshot

  const hit: string[] = [];
  const targets: Phase[] = ['receiving', 'staged', 'installed'];
  for (const [k, target] of targets.entries()) {
    const id = 2 + k;
    const member = await c.addMember(id);
    const mapDir = path.join(member.dataDir, 'map');
    await c.start(id, { join: true });
    await c.command(1, `add-learner ${id} ${member.address}`);
    // Kill at the target phase, or at a later one if the install went past it between polls.
    const order: Array<Phase | 'none'> = ['none', 'receiving', 'staged', 'installed'];
    let phase: Phase | 'none' = 'none';
    await c.waitUntil(`n${id} to reach ${target}`, () => order.indexOf((phase = phaseOf(mapDir))) >= order.indexOf(target), 60_000);
    await c.kill(id);
    const killedAt = phase as Phase | 'none'; // assigned in the poll above
    hit.push(`${target}->${killedAt}`);

    const map = SqliteMap.open(mapDir);
    try {
      expect(map.integrityCheck(), `n${id} killed at ${killedAt}`).toBe('ok');
      const size = map.size();
      expect([0, VALUES], `n${id} killed at ${killedAt}: a map of ${size} values is a mix`).toContain(size);
      for (const { key, value } of map.entries('f')) {
        const i = Number(key.slice(1));
        expect(value.length).toBe(VALUE_BYTES);
        expect(value.startsWith(`${i}:`) && value.endsWith(String.fromCharCode(97 + (i % 26)))).toBe(true);
      }
      if (killedAt === 'installed') expect(size).toBe(VALUES);
      if (killedAt === 'receiving') expect(size).toBe(0);
    } finally {
      map.close();
    }

    await c.start(id, { join: true });
    const leader = (await c.status(1)) as unknown as MapStatus;
    await c.waitUntil(`n${id} to catch up`, async () => ((await c.status(id)) as unknown as MapStatus).position >= leader.commitIndex, 60_000);
    expect(await c.command(id, 'verify')).toMatchObject({ size: VALUES, badCount: 0 });
  }
  console.log(`install crash: receivers killed at ${hit.join(', ')}; never a mix, each whole after its restart`);
}, 240_000);
