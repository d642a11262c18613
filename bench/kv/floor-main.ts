/**
 * The floor's process (floor-server.ts): its own process, as each member of the compared systems
 * is, so that its CPU is counted apart from the client's. Says `listening` with the three
 * endpoints over IPC and exits when the parent disconnects.
 *
 *   floor-main.ts   (forked by systems.ts)
 */
import { startFloorServer } from './floor-server.js';

/** What the floor process says to its parent. */
export type FromFloor = { type: 'listening'; endpoints: readonly string[] };

startFloorServer().then(
  (server) => {
    process.on('disconnect', () => void server.close().then(() => process.exit(0)));
    process.send?.({ type: 'listening', endpoints: server.endpoints } satisfies FromFloor);
  },
  (err: unknown) => {
    process.stderr.write(`kv floor: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
