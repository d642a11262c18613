/**
 * The README's demo: pontoon-kv used as people use etcd. Three `pontoon-kv` processes on
 * 127.0.0.1 (data in a temporary folder); service instances register with leases and a client
 * discovers them; writers write under a prefix and a watcher follows it. The leader is killed
 * with SIGKILL: a new one is elected, the watcher resumes on another member with no gap, and
 * an instance that died with the leader leaves discovery when its lease expires. A snapshot is
 * saved, restored into a fresh member and started; every acknowledged write is checked there
 * and on the live cluster. Exits 0 when all is well, and removes the processes and the folder
 * in every case (Ctrl-C and failures included).
 *
 * The `demo` script runs it with `node --import tsx`, not the tsx command: that one runs the
 * program in a child process and SIGKILLs it when it does not acknowledge a signal within
 * 30 ms, which on a busy machine would cut the clean-up short and leave the members running.
 */
import os from 'node:os';
import path from 'node:path';
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { Discovery, type DiscoveryChange } from './discovery.js';
import { KvCluster, type Member } from './kv-cluster.js';
import { ResumingWatcher, type Resumption } from './resuming-watcher.js';
import { ServiceInstance } from './service-instance.js';
import { saveSnapshot } from './snapshot-file.js';
import { WriteLoad } from './write-load.js';

const HEARTBEAT_MS = 50;
const ELECTION_TIMEOUT_MS = 500;
const LEASE_TTL_S = 3;
const SERVICE = 'demo';
const EVENTS_PREFIX = '/demo/events/';
const INSTANCES = 3;
const WRITERS = 2;
const WRITE_PAUSE_MS = 10;
/** Bound on every wait: far above a normal run's, so that only a real failure hits it. */
const WAIT_LIMIT_MS = 60_000;

const tty = process.stdout.isTTY === true;
const style = (code: number) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const [bold, dim, green, red] = [style(1), style(2), style(32), style(31)];
const startedAt = performance.now();
const now = (): number => performance.now() - startedAt;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1).padStart(5)}s`;
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let cluster: KvCluster | undefined;
let everyone: Etcd3 | undefined;
const memberClients = new Map<string, Etcd3>();
const statusClients = new Map<string, Etcd3>();
let discovery: Discovery | undefined;
const instances: ServiceInstance[] = [];
let watcher: ResumingWatcher | undefined;
let load: WriteLoad | undefined;
let statusLine = '';
let statusTimer: NodeJS.Timeout | undefined;

/** A command over several shell lines (its first three words, then two a line), indented under the log's text. */
function commandLines(words: readonly string[]): string {
  const lines = [words.slice(0, 3).join(' ')];
  for (let i = 3; i < words.length; i += 2) lines.push(`  ${words.slice(i, i + 2).join(' ')}`);
  return lines.map((l, i) => dim(`         ${l}${i < lines.length - 1 ? ' \\' : ''}`)).join('\n');
}

/** Prints a line above the live status line (which is redrawn under it). */
function say(msg: string): void {
  const at = dim(`[${seconds(now())}]`);
  if (tty) process.stdout.write(`\r\x1b[2K${at} ${msg}\n${statusLine}`);
  else process.stdout.write(`${at} ${msg}\n`);
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + WAIT_LIMIT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what} after ${WAIT_LIMIT_MS / 1000} s`);
    await sleep(50);
  }
}

/**
 * A client of one member only (a client of several picks among them). etcd3 puts a circuit
 * breaker on each host, which after three failures refuses every call for 5 s: right for a
 * client that can go elsewhere, wrong for one whose only member is slow for a moment.
 */
function onlyTo(m: Member, clients: Map<string, Etcd3>): Etcd3 {
  let c = clients.get(m.name);
  if (c === undefined) clients.set(m.name, (c = new Etcd3({ hosts: [m.endpoint], faultHandling: { host: () => noop } })));
  return c;
}

/** The client the demo's operations on member `m` go through. */
const clientOf = (m: Member): Etcd3 => onlyTo(m, memberClients);

interface MemberStatus {
  readonly member: Member;
  readonly memberId: string;
  readonly leaderId: string;
  readonly term: number;
  readonly revision: number;
}

/** Maintenance.Status of every ready member that answers within a second. */
async function statuses(): Promise<MemberStatus[]> {
  const running = cluster?.members.filter((m) => m.ready) ?? [];
  const answers = await Promise.all(
    running.map(async (member) => {
      try {
        const s = await onlyTo(member, statusClients).maintenance.status({ deadline: Date.now() + 1000 });
        return { member, memberId: s.header.member_id, leaderId: s.leader, term: Number(s.raftTerm), revision: Number(s.header.revision) };
      } catch {
        return undefined;
      }
    }),
  );
  return answers.filter((a) => a !== undefined);
}

/** The member that says it leads, among `among`, once one does. */
async function waitForLeader(among: readonly Member[], afterTerm = 0): Promise<MemberStatus> {
  let leader: MemberStatus | undefined;
  await until('a leader', async () => {
    leader = (await statuses()).find((s) => among.includes(s.member) && s.memberId === s.leaderId && s.term > afterTerm);
    return leader !== undefined;
  });
  return leader!;
}

/** The cluster in one line, as detailed as `width` columns allow. */
function render(all: MemberStatus[], width = Infinity): string {
  const visible = (s: string): number => s.replace(/\x1b\[\d+m/g, '').length;
  const variants = [2, 1, 0].map((detail) => {
    const parts = (cluster?.members ?? []).map((m) => {
      const s = all.find((x) => x.member === m);
      if (!m.alive) return `${m.name} ${red('down')}`;
      if (!m.ready) return `${m.name} starting`;
      if (s === undefined) return `${m.name} …`;
      const leads = s.memberId === s.leaderId;
      if (detail === 0) return `${m.name} ${leads ? green(bold('L')) : 'f'} ${s.revision}`;
      const role = leads ? green(bold('leader  ')) : 'follower';
      return `${m.name} ${role} term ${s.term} rev ${String(s.revision).padStart(5)}`;
    });
    const extra = [
      plural(discovery?.instances.length ?? 0, 'instance'),
      ...(watcher === undefined ? [] : [detail === 2 ? `watcher on ${watcher.member} at rev ${watcher.lastRevision}` : `watch ${watcher.lastRevision}`]),
      `${load?.acked.length ?? 0} acked`,
    ];
    return [...parts, ...extra].join(dim(' │ '));
  });
  return variants.find((v) => visible(v) <= width) ?? variants[2]!;
}

/** The live status line (TTY), or the same as a plain line at the milestones (otherwise). */
async function showStatus(): Promise<void> {
  if (cluster === undefined) return;
  const all = await statuses();
  if (tty) {
    statusLine = render(all, (process.stdout.columns ?? 80) - 1);
    process.stdout.write(`\r\x1b[2K${statusLine}`);
  } else {
    say(dim(render(all)));
  }
}

function onDiscoveryChange(change: DiscoveryChange): void {
  const sign = change.kind === 'joined' ? green('+') : red('−');
  const instance = instances.find((i) => i.address === change.address);
  const why =
    change.kind === 'left' && instance !== undefined
      ? `: its lease expired, ${((performance.now() - instance.lastKeepAliveAt) / 1000).toFixed(1)} s after its last keepalive`
      : '';
  say(`discovery: ${sign} ${change.address} ${change.kind} at revision ${change.revision}${why} → ${plural(change.instances.length, 'instance')}`);
}

function onResumed(r: Resumption): void {
  say(`watcher: the stream to ${r.from} broke after revision ${r.lastRevision}; resumed on ${bold(r.to)} from revision ${r.startRevision}`);
}

/** What became of the puts the client retried, from the number of keys written twice. */
function retriedOutcome(twice: number): string {
  if (twice === 0) return 'none of which had gone through the first time';
  return twice === 1 ? 'one of which had gone through the first time (its key has two revisions)' : `${twice} of which had gone through the first time (their keys have two revisions)`;
}

async function main(): Promise<void> {
  process.stdout.write(
    `${bold('Pontoon demo')}: pontoon-kv, an etcd 3.4-compatible store on Pontoon's Raft, used as people use etcd.\n` +
      `3 members, each a \`pontoon-kv\` process started with etcd's flags on 127.0.0.1, data in SQLite in a\n` +
      `temporary folder; clients on the etcd3 npm package. Heartbeat ${HEARTBEAT_MS} ms, election timeout ${ELECTION_TIMEOUT_MS} ms, leases ${LEASE_TTL_S} s.\n\n`,
  );
  const c = await KvCluster.start(
    {
      names: ['m0', 'm1', 'm2'],
      token: 'pontoon-demo',
      extraFlags: [`--heartbeat-interval=${HEARTBEAT_MS}`, `--election-timeout=${ELECTION_TIMEOUT_MS}`],
      folderPrefix: 'pontoon-kv-demo-',
    },
    (created) => {
      cluster = created;
      const m0 = created.members[0]!;
      say(`starting ${created.members.map((m) => m.name).join(', ')}; ${m0.name} is\n${commandLines(['pontoon-kv', ...m0.flags])}`);
      if (tty) statusTimer = setInterval(() => void showStatus().catch(() => {}), 200);
    },
  );
  say(`started ${c.members.map((m) => `${m.name} (pid ${m.pid}, ${m.endpoint})`).join(', ')}: each logged "ready to serve client requests"`);
  say(`data in ${c.dir}`);
  const first = await waitForLeader(c.members);
  say(`${first.member.name} is the leader (raft term ${first.term})`);
  const all = (everyone = new Etcd3({ hosts: c.members.map((m) => m.endpoint) }));

  // Discovery first, so that it sees each registration arrive.
  const d = await Discovery.start(all, SERVICE, onDiscoveryChange);
  discovery = d.discovery;
  say(`discovery: read /services/${SERVICE}/ at revision ${d.revision} (${plural(discovery.instances.length, 'instance')}), watching from revision ${d.revision + 1}`);
  for (let i = 0; i < INSTANCES; i++) instances.push(await ServiceInstance.register(c.members.map((m) => m.endpoint), SERVICE, LEASE_TTL_S));
  await until('discovery to see every instance', () => discovery!.instances.length === INSTANCES);
  say(`registered ${INSTANCES} instances under /services/${SERVICE}/<address>, each on a ${LEASE_TTL_S} s lease it keeps alive`);

  // The watcher starts on the leader, the member about to be killed.
  const startRevision = Number((await all.getAll().prefix(EVENTS_PREFIX).exec()).header.revision) + 1;
  const watchable = c.members.map((m) => ({ name: m.name, endpoint: m.endpoint }));
  const w = (watcher = await ResumingWatcher.start({
    members: watchable,
    first: watchable.find((m) => m.name === first.member.name)!,
    prefix: EVENTS_PREFIX,
    startRevision,
    onResumed,
  }));
  load = new WriteLoad(c.members.map((m) => m.endpoint), EVENTS_PREFIX, WRITERS, WRITE_PAUSE_MS);
  say(`${WRITERS} writers put new keys under ${EVENTS_PREFIX}; a watcher follows that prefix from revision ${startRevision} through ${w.member}`);
  await sleep(2000);
  say(`${load.acked.length} writes acknowledged; the watcher has ${w.events.length} events, up to revision ${w.lastRevision}`);
  if (!tty) await showStatus();

  // Leadership may have moved since the watcher started (a slow machine): move it back, as
  // `etcdctl move-leader` does, so that the kill breaks the watcher's stream.
  let leader = await waitForLeader(c.members);
  if (leader.member.name !== w.member) {
    const target = (await statuses()).find((s) => s.member.name === w.member);
    if (target === undefined) throw new Error(`${w.member}, the watcher's member, does not answer`);
    say(`${leader.member.name} leads now; moving leadership back to ${w.member} (Maintenance.MoveLeader)`);
    await clientOf(leader.member).maintenance.moveLeader({ targetID: target.memberId });
    leader = await waitForLeader([target.member]);
  }

  // The leader dies without warning, and the instance running beside it with it.
  const dead = leader.member;
  const crashed = instances[1]!;
  const killedAt = now();
  await dead.stop('SIGKILL');
  crashed.crash();
  say(`${red('SIGKILL')} ${dead.name}, the leader; the instance ${crashed.address} crashes with it (its keepalives stop, nobody revokes its lease)`);
  const survivors = c.members.filter((m) => m !== dead);
  const next = await waitForLeader(survivors, leader.term);
  say(`${bold(next.member.name)} is the new leader (raft term ${next.term}), seen by Maintenance.Status ${bold(`${Math.round(now() - killedAt)} ms`)} after the kill`);
  await until('the watcher to resume', () => w.resumptions.length > 0);

  // While the dead instance's lease runs out, the backup. What a member has applied after a
  // linearizable read through it includes every write acknowledged before that read, so the
  // snapshot taken next holds them all.
  const left = until(`${crashed.address} to leave discovery`, () => !discovery!.instances.includes(crashed.address));
  left.catch(() => {}); // awaited below; a failure meanwhile must not go unhandled
  const source = survivors.find((m) => m !== next.member) ?? next.member;
  const ackedBefore = [...load.acked];
  await clientOf(source).getAll().prefix(EVENTS_PREFIX).count();
  const file = path.join(c.dir, 'backup.db');
  const bytes = await saveSnapshot(clientOf(source), file);
  say(`saved a snapshot from ${source.name} (Maintenance.Snapshot) to ${path.basename(file)}: ${(bytes / 1024).toFixed(0)} KiB, its SHA-256 trailer checks`);
  await load.stop();
  const restored = await c.restore(file, 'r0');
  say(`pontoon-kv snapshot restore ${path.basename(file)} into a new data dir; started ${bold('r0')} (pid ${restored.pid}, ${restored.endpoint}), a one-member cluster: ready`);
  await left;
  if (!tty) await showStatus();

  // The checks.
  const problems: string[] = [];
  const keysOn = async (client: Etcd3): Promise<Map<string, number>> => {
    const res = await client.getAll().prefix(EVENTS_PREFIX).exec();
    return new Map(res.kvs.map((kv) => [kv.key.toString(), Number(kv.mod_revision)]));
  };
  const onRestored = await keysOn(clientOf(restored));
  const missingRestored = ackedBefore.filter((k) => !onRestored.has(k));
  if (missingRestored.length > 0) problems.push(`r0 lacks ${missingRestored.length} writes acknowledged before the snapshot, e.g. ${missingRestored[0]}`);
  const onCluster = await keysOn(all);
  const missingLive = load.acked.filter((k) => !onCluster.has(k));
  if (missingLive.length > 0) problems.push(`the cluster lacks ${missingLive.length} acknowledged writes, e.g. ${missingLive[0]}`);

  // The watcher's history against the one the survivors hold, replayed from the same revision.
  const lastRevision = Math.max(...onCluster.values());
  await until('the watcher to see the last write', () => w.lastRevision >= lastRevision);
  const replay = await ResumingWatcher.start({ members: watchable, first: watchable.find((m) => m.name === source.name)!, prefix: EVENTS_PREFIX, startRevision, onResumed });
  await until('the history replay', () => replay.lastRevision >= lastRevision);
  await replay.stop();
  problems.push(...w.problems);
  if (d.discovery.ended !== undefined) problems.push(`the discovery watch ended: ${d.discovery.ended}`);
  const seen = w.events.map((e) => `${e.kind} ${e.key}@${e.revision}`);
  const history = replay.events.map((e) => `${e.kind} ${e.key}@${e.revision}`);
  const firstDiff = seen.findIndex((e, i) => e !== history[i]);
  if (firstDiff !== -1 || seen.length !== history.length) {
    const at = firstDiff === -1 ? Math.min(seen.length, history.length) : firstDiff;
    problems.push(`the watcher's events differ from the history at event ${at}: saw ${seen[at] ?? 'nothing'}, history has ${history[at] ?? 'nothing'}`);
  }
  // Each writer puts a key once: a key with two events is a put sent twice, which only a retry
  // by the client (after the kill, of a put whose first try had gone through) may explain.
  const twice = w.events.length - new Set(w.events.map((e) => e.key)).size;
  if (twice > load.retried) problems.push(`${twice} keys were written twice, but the client retried only ${load.retried} puts`);
  if (problems.length > 0) throw new Error(`the check failed:\n  ${problems.join('\n  ')}`);

  const resumed = w.resumptions[0]!;
  say(
    `${green('✓')} r0 holds all ${ackedBefore.length} writes acknowledged before the snapshot; ` +
      `${survivors.map((m) => m.name).join(' and ')} hold all ${load.acked.length} acknowledged writes` +
      (load.unknown === 0 ? '' : ` (${load.unknown} writes in flight at the kill had an unknown outcome)`),
  );
  say(
    `${green('✓')} watcher: ${seen.length} events, revisions ${w.events[0]?.revision}..${w.lastRevision}, none missing, none twice ` +
      `(the history ${source.name} replays from revision ${startRevision}), across the resume on ${resumed.to} at revision ${resumed.startRevision}` +
      (load.retried === 0 ? '' : `; the client retried ${plural(load.retried, 'put')} after the kill, ${retriedOutcome(twice)}`),
  );
}

let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Stops everything this demo started; safe to call twice (a signal during a failure). */
function cleanup(): Promise<void> {
  return (cleaning ??= stopAll());
}

async function stopAll(): Promise<void> {
  if (statusTimer !== undefined) clearInterval(statusTimer);
  load?.close();
  await watcher?.stop();
  for (const i of instances) i.crash();
  everyone?.close();
  for (const c of [...memberClients.values(), ...statusClients.values()]) c.close();
  const dir = cluster?.dir;
  await cluster?.close();
  if (tty) process.stdout.write('\r\x1b[2K');
  statusLine = '';
  if (dir !== undefined) say(dim(`stopped the members and removed ${dir}`));
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    interrupted = true;
    say(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(128 + os.constants.signals[signal]));
  });
}

main().then(
  async () => {
    if (interrupted) return;
    await cleanup();
    process.exit(0);
  },
  async (err: unknown) => {
    // Interrupted: the signal's handler is cleaning up and exits; what failed was its doing.
    if (interrupted) return;
    say(red(`demo failed: ${err instanceof Error ? err.message : String(err)}`));
    for (const m of cluster?.members ?? []) if (m.log() !== '') process.stderr.write(`--- ${m.name} log (last lines) ---\n${m.log()}\n`);
    await cleanup();
    process.exit(1);
  },
);
