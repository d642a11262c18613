/**
 * One node process of a JavaScript Raft library: the library's node plus a client port on which
 * it takes writes (JSON lines, see lines.ts) and answers each once the library says it committed.
 * It tells the parent over IPC whenever it becomes or stops being the leader.
 *
 *   js-raft-process.ts <liferaft|skiff> <client port> <JsRaftNodeConfig as JSON>
 */
import fs from 'node:fs';
import net from 'node:net';
import type { JsRaftNode, JsRaftNodeConfig } from './js-raft.js';
import { readLines, writeLine } from './lines.js';
import type { ClientReply, ClientRequest } from './lines.js';
import { startLiferaft } from './liferaft.js';
import { startSkiff } from './skiff.js';

/** What a node process tells the parent. */
export type FromNode =
  | { type: 'role'; leader: boolean }
  | { type: 'failed'; error: string }
  | { type: 'fault'; error: string; count: number };

const [system, clientPortArg, configJson] = process.argv.slice(2);
if (system === undefined || clientPortArg === undefined || configJson === undefined) {
  throw new Error('usage: js-raft-process.ts <liferaft|skiff> <client port> <config>');
}
const config = JSON.parse(configJson) as JsRaftNodeConfig;

function tell(m: FromNode): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const node: JsRaftNode = system === 'skiff' ? await startSkiff(config) : await startLiferaft(config, fault);
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    readLines(socket, (m) => {
      const req = m as ClientRequest;
      const answer = (reply: ClientReply): void => {
        if (!socket.destroyed) writeLine(socket, reply);
      };
      if (!node.isLeader()) return answer({ id: req.id, error: 'not the leader' });
      node.submit(req.key, req.value).then(
        () => answer({ id: req.id }),
        (err: unknown) => answer({ id: req.id, error: err instanceof Error ? err.message : String(err) }),
      );
    });
  });
  server.listen(Number(clientPortArg), '127.0.0.1');
  let leader = false;
  const poll = setInterval(() => {
    if (node.isLeader() === leader) return;
    leader = !leader;
    tell({ type: 'role', leader });
  }, 50);
  process.on('disconnect', () => {
    clearInterval(poll);
    server.close();
    void node.close().finally(() => process.exit(0));
  });
}

function fail(err: unknown): void {
  tell({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  // Let the IPC message out before the process goes.
  setTimeout(() => process.exit(1), 100);
}
// The libraries throw from their own callbacks (a leveldb error, say): that ends the node too.
process.on('uncaughtException', fail);
// A promise the library drops that then rejects would end a default Node process. The node
// keeps running (so the run yields numbers) and the parent reports what and how often, as it
// does the other faults a node sees.
const faults = new Map<string, number>();
function fault(text: string): void {
  // The same failure at different log indexes is one failure: `[6136]` becomes `[n]`.
  const error = text.replace(/\[\d+\]/g, '[n]');
  const count = (faults.get(error) ?? 0) + 1;
  faults.set(error, count);
  tell({ type: 'fault', error, count });
}
process.on('unhandledRejection', (reason: unknown) => {
  fault(`unhandled rejection (a default Node process would have exited): ${reason instanceof Error ? `${reason.message} (${firstFrame(reason)})` : String(reason)}`);
});

/** Where in the library an error was thrown from, for the report. */
function firstFrame(err: Error): string {
  const frames = (err.stack ?? '').split('\n').filter((l) => l.includes(' at '));
  const frame = frames.find((l) => /liferaft|skiff/.test(l)) ?? frames[0] ?? '';
  return frame.trim().replace(/^at /, '').replace(/\(?\/.*node_modules\//, '').replace(/\)$/, '');
}
main().catch(fail);
