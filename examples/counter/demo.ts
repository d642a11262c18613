/**
 * The README's demo: three counter nodes (node.ts) as child processes on 127.0.0.1, SQLite in a
 * temporary folder. Clients write; the leader is killed with SIGKILL; a new one is elected and
 * the writes go on; the dead node restarts from its SQLite log and catches up; every
 * acknowledged write is checked on every node. Exits 0 when all is well, and removes the
 * processes and the folder in every case (Ctrl-C and failures included).
 */
import os from 'node:os';
import { Cluster, type NodeStatus } from './cluster.js';
import { WriteLoad, checkCounter } from './load.js';

const TICK_MS = 50;
const CLIENTS = 4;
const tty = process.stdout.isTTY === true;
const style = (code: number) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const [bold, dim, green, red] = [style(1), style(2), style(32), style(31)];

let cluster: Cluster | undefined;
let load: WriteLoad | undefined;
let statusLine = '';
let statusTimer: NodeJS.Timeout | undefined;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1).padStart(5)}s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Prints a line above the live status line (which is redrawn under it). */
function say(msg: string): void {
  const at = dim(`[${seconds(cluster?.now() ?? 0)}]`);
  if (tty) process.stdout.write(`\r\x1b[2K${at} ${msg}\n${statusLine}`);
  else process.stdout.write(`${at} ${msg}\n`);
}

/** The cluster in one line, as detailed as `width` columns allow. */
function render(statuses: NodeStatus[], width = Infinity): string {
  const c = cluster!;
  const visible = (s: string): number => s.replace(/\x1b\[\d+m/g, '').length;
  const variants = [2, 1, 0].map((detail) => {
    const parts = [...c.nodes.values()].map((n) => {
      const s = statuses.find((x) => x.id === n.id);
      if (!n.alive) return `n${n.id} ${red('down')}`;
      if (s === undefined) return `n${n.id} starting`;
      const role = s.role === 'leader' ? green(bold('leader  ')) : s.role.padEnd(8);
      if (detail === 0) return `n${n.id} ${s.role === 'leader' ? green(bold('L')) : s.role[0]} t${s.term} ${s.value}`;
      const applied = detail === 2 ? ` applied ${String(s.appliedIndex).padStart(5)}` : '';
      return `n${n.id} ${role} term ${s.term}${applied} counter ${String(s.value).padStart(5)}`;
    });
    return `${parts.join(dim(' │ '))}${dim(' │ ')}${load?.acked.length ?? 0} acked`;
  });
  return variants.find((v) => visible(v) <= width) ?? variants[2]!;
}

/** The live status line (TTY), or the same as a plain line at the milestones (otherwise). */
async function showStatus(): Promise<void> {
  if (cluster === undefined) return;
  const statuses = await cluster.statuses();
  if (tty) {
    statusLine = render(statuses, (process.stdout.columns ?? 80) - 1);
    process.stdout.write(`\r\x1b[2K${statusLine}`);
  } else {
    say(dim(render(statuses)));
  }
}

async function main(): Promise<void> {
  process.stdout.write(
    `${bold('Pontoon demo')}: a replicated counter on 3 processes (examples/counter/node.ts), Raft over TCP on\n` +
      `127.0.0.1, each node's log in SQLite (fsync on every commit). Election timeout: ${10 * TICK_MS}-${20 * TICK_MS} ms.\n\n`,
  );
  const c = (cluster = await Cluster.start({ size: 3, tickMs: TICK_MS, prefix: 'pontoon-demo-' }));
  say(`started ${[...c.nodes.values()].map((n) => `n${n.id} (pid ${n.pid}, ${n.address})`).join(', ')}`);
  say(`data in ${c.dir}`);
  if (tty) statusTimer = setInterval(() => void showStatus().catch(() => {}), 150);

  const first = await c.waitForLeader();
  say(`n${first.id} is the leader (term ${first.term})`);
  load = new WriteLoad(c, CLIENTS);
  say(`${CLIENTS} clients send \`inc\` to the leader, one write at a time each`);
  await sleep(2500);
  const before = load.acked.length;
  say(`${before} writes acknowledged (${Math.round(before / 2.5)} per second)`);
  if (!tty) await showStatus();

  // The leader dies without warning: no goodbye, no flush beyond what SQLite already synced.
  const { id: dead, term: oldTerm } = await c.waitForLeader();
  const killedAt = c.now();
  const elected = c.nextLeader({ afterTerm: oldTerm, excluding: dead });
  await c.kill(dead);
  say(`${red('SIGKILL')} n${dead}, the leader (writes in flight to it have an unknown outcome)`);
  const next = await elected;
  say(`n${next.leaderId} is the new leader (term ${next.term}), elected ${bold(`${Math.round(next.at - killedAt)} ms`)} after the kill`);
  await sleep(2000);
  say(`writes paused for ${Math.round(load.longestPause.ms)} ms; ${load.acked.length} acknowledged now, with n${dead} down`);
  if (!tty) await showStatus();

  // Restart: the node recovers its log, hard state and counter from SQLite, then catches up.
  const target = (await c.status(next.leaderId)).commitIndex;
  const restartedAt = c.now();
  await c.start(dead);
  const upAt = c.now();
  const back = await c.status(dead);
  say(
    `restarted n${dead} (${Math.round(upAt - restartedAt)} ms to start): its SQLite log ends at index ${back.log.lastIndex}, ` +
      `counter ${back.value}; the leader has committed up to ${target}`,
  );
  await c.waitUntil(`n${dead} to catch up`, async () => (await c.status(dead)).appliedIndex >= target);
  say(`n${dead} caught up with the leader's index ${target} in ${bold(`${Math.round(c.now() - upAt)} ms`)}`);
  await sleep(1500);

  await load.stop();
  const values = await c.values();
  if (!tty) await showStatus();
  const problems = checkCounter(load, values);
  for (const { term, leaders } of c.termsWithTwoLeaders()) problems.push(`term ${term} had two leaders: ${leaders.join(', ')}`);
  if (problems.length > 0) throw new Error(`the check failed:\n  ${problems.join('\n  ')}`);
  const acked = load.acked.length;
  const value = [...values.values()][0]!;
  const inFlight = load.unknown === 0 ? '' : `; of the ${load.unknown} writes in flight at the kill, ${value - acked} took effect`;
  say(`${green('✓')} counter = ${value} on ${[...values.keys()].map((id) => `n${id}`).join(', ')}: all ${acked} acknowledged writes are there${inFlight}`);
}

async function cleanup(): Promise<void> {
  if (statusTimer !== undefined) clearInterval(statusTimer);
  void load?.stop();
  const dir = cluster?.dir;
  await cluster?.close();
  if (tty) process.stdout.write('\r\x1b[2K');
  statusLine = '';
  if (dir !== undefined) say(dim(`stopped the nodes and removed ${dir}`));
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(128 + os.constants.signals[signal]));
  });
}

main().then(
  async () => {
    await cleanup();
    process.exit(0);
  },
  async (err: unknown) => {
    say(red(`demo failed: ${err instanceof Error ? err.message : String(err)}`));
    for (const n of cluster?.nodes.values() ?? []) if (n.stderr !== '') process.stderr.write(`--- n${n.id} stderr ---\n${n.stderr}\n`);
    await cleanup();
    process.exit(1);
  },
);
