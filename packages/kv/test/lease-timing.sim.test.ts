/**
 * Lease expiry timing on KvMember clusters under @pontoon/sim's faults, in virtual time:
 * partitions (both ways, twice as often, and one way), crashes with power loss, message loss (a
 * base rate and bursts), each hitting the leader 70 % of the time, and in odd seeds clock drift
 * (each member's clock runs at a rate in [1 - ρ, 1 + ρ]), on top of the clock skew every sim
 * node has (clocks that do not agree). Clients grant leases with their own ids, put a key under
 * each, and keep each alive for a while (keepalives at most a third of its TTL apart, as etcd's
 * client sends them, often sooner, on the member that granted it, which is half the time one
 * that believed it led; another member once one fails), then abandon it.
 * Every revoke every member applies is recorded with its log index, revision and virtual time.
 *
 * Checked, per lease:
 * - Safety: no member applies the lease's revoke before TTL / (1 + ρ) - M has passed since the
 *   client sent its grant or any keepalive that was acknowledged (virtual time, the client's);
 *   with ρ = 0 (even seeds), before TTL.
 * - Liveness: once the faults end, every member applies the revoke by
 *   max(abandoned, the last leader's election) + (TTL + ET + CI) / (1 - ρ) + 2 ET, where
 *   `abandoned` is the latest the leader could have renewed it (the client's last keepalive call
 *   settled, plus the network's longest delay for a forwarded one; or its grant applied), ET the
 *   election timeout (a new leader's extension), CI the lessor's expiry check interval (ET / 2),
 *   and 2 ET for the new leader to commit its first entry (it promotes its lessor then) and the
 *   revoke to reach every member.
 * - Agreement: every member applies each revoke at the same log index and revision (or installs
 *   a snapshot past it), and applies it once.
 *
 * The drift bound: ρ = 5 %. The lessor's safety rests on two clocks measuring one TTL alike: the
 * leader that renewed a lease measures it on its clock, and a new leader extends every lease by
 * one election timeout on promotion, which covers the old leader acknowledging keepalives until
 * CheckQuorum deposes it; clocks that drift shrink that cover. etcd's lessor is built the same
 * way (Promote extends by the election timeout) and rests on the same assumption.
 * M, the margin allowed for that, is 4ρ · ET / (1 - ρ): an old leader deposed by CheckQuorum up
 * to two election timeouts (by its own clock) after it last heard a quorum, and a new leader
 * elected at least one (by its followers' clocks) after they last heard the old one.
 *
 * Fixed seeds plus a fresh batch each run (printed; PONTOON_SEED=<seed> replays the batch).
 * More: PONTOON_KV_LEASE_SIM_SCHEDULES=500 npx -y pnpm@10 exec vitest run packages/kv/test/lease-timing.sim.test.ts
 * One: PONTOON_KV_LEASE_SIM_SEED=<seed> (same command).
 */
import type { Entry } from '@pontoon/raft';
import { EntryType } from '@pontoon/raft';
import { freshSeed } from '@pontoon/sim';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { decodeCommand } from '../src/command.js';
import type { KvMember } from '../src/kv-member.js';
import type { KvApplyResult } from '../src/kv-state-machine.js';
import { SIM_ELECTION_TICKS, SIM_TICK_MS, SimKvCluster, type SimKvNode } from './support/sim-kv-cluster.js';

const FIXED_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const REPLAY = process.env.PONTOON_KV_LEASE_SIM_SEED;
const SCHEDULES = Number(process.env.PONTOON_KV_LEASE_SIM_SCHEDULES ?? 40);
const ET = SIM_TICK_MS * SIM_ELECTION_TICKS;
/**
 * The drift bound ρ: clocks run at rates in [1 - ρ, 1 + ρ], in odd seeds' schedules. Even seeds'
 * clocks do not drift (ρ = 0), and there the safety check allows nothing: a lease lives its whole
 * TTL (what catches a new leader that would not extend its leases).
 */
const DRIFT = 0.05;
/** The margin M the safety check allows for drift ρ (see the file's comment). */
const driftMarginMs = (rho: number): number => (4 * rho * ET) / (1 - rho);
/**
 * The lessor's expiry check interval. etcd's 500 ms is half its default election timeout; the
 * sim's election timeout is 100 ms, and a check interval five times as long would hide an
 * early expiry of less than that behind the wait for the next check.
 */
const CHECK_INTERVAL_MS = ET / 2;
const CLIENTS = 4;
/** The sim network's longest one-way delay (4 ms, plus up to 40 ms for a reordered message). */
const MAX_LATENCY_MS = 44;
/** For the new leader to commit its first entry and a revoke to reach every member. */
const COMMIT_SLACK_MS = 2 * ET;
const FAULT_PHASE_MS = 3000;

interface LeaseRecord {
  id: bigint;
  ttl: number;
  /** Virtual times the client sent its grant and each keepalive that was acknowledged. */
  renewedAt: number[];
  /**
   * The latest a leader could have renewed it: when the client's last keepalive call settled
   * (a forwarded renewal may be in flight a network delay longer), or when its grant applied.
   */
  abandonedAt: number;
  keepalives: number;
}

interface RevokeApplied {
  node: number;
  index: number;
  revision: number;
  at: number;
}

interface ScheduleReport {
  leases: number;
  keepalivesAcked: number;
  revokes: number;
  faults: number;
  /** The least slack between a revoke and its safety bound, ms (drift allowance included). */
  minSafetySlackMs: number;
  /** The most of COMMIT_SLACK_MS a revoke used beyond its liveness bound, ms. */
  maxLivenessUseMs: number;
}

async function runSchedule(seed: number, baseDir: string): Promise<ScheduleReport> {
  const dir = await mkdtemp(join(baseDir, `s${seed}-`));
  const cluster = new SimKvCluster({ seed, dir, lossRate: 0.02, lessorCheckIntervalMs: CHECK_INTERVAL_MS, snapshot: seed % 3 === 0 ? { everyEntries: 20, keepEntries: 5 } : false });
  const rand = cluster.rand.derive('lease-timing');
  const sched = cluster.scheduler;
  const sleep = (ms: number): Promise<void> => new Promise((r) => sched.schedule(ms, r));
  const ended = new Map<number, Promise<void>>();
  const endIncarnation = new Map<number, () => void>();
  const revokes = new Map<bigint, RevokeApplied[]>();
  /** When each lease's grant applied, on the last member to apply it. */
  const grantsApplied = new Map<bigint, number>();
  /** The snapshot indexes each node installed. */
  const installs = new Map<number, number[]>();
  const leaderSince = new Map<number, number>();
  const failures: string[] = [];
  const rho = seed % 2 === 0 ? 0 : DRIFT;

  cluster.onStarted((n: SimKvNode) => {
    ended.set(n.id, new Promise<void>((resolve) => endIncarnation.set(n.id, resolve)));
    const kv = n.kv!;
    // Every revoke this incarnation applies, as it applies it (RaftNode hands the state machine
    // forwarded commands unwrapped).
    const applyBatch = kv.applyBatch.bind(kv);
    kv.applyBatch = (entries: readonly Readonly<Entry>[]): KvApplyResult[] => {
      const results = applyBatch(entries);
      entries.forEach((e, i) => {
        const r = results[i];
        if (e.type !== EntryType.EntryNormal || e.data.length === 0 || r === undefined || !r.ok) return;
        const command = decodeCommand(e.data);
        if (command.op === 'leaseGrant' && command.request.id !== undefined) {
          grantsApplied.set(command.request.id, Math.max(grantsApplied.get(command.request.id) ?? 0, sched.now()));
        }
        if (command.op !== 'leaseRevoke') return;
        const list = revokes.get(command.request.id) ?? [];
        list.push({ node: n.id, index: e.index, revision: r.response.header.revision, at: sched.now() });
        revokes.set(command.request.id, list);
      });
      return results;
    };
    const installSnapshot = kv.installSnapshot.bind(kv);
    kv.installSnapshot = async (index) => {
      const position = await installSnapshot(index);
      installs.set(n.id, [...(installs.get(n.id) ?? []), position.index]);
      return position;
    };
    n.member!.raft.on('roleChanged', ({ role }) => {
      if (role === 'leader') leaderSince.set(n.id, sched.now());
    });
  });
  const crash = (id: number): void => {
    cluster.crash(id);
    endIncarnation.get(id)?.();
  };
  const upMembers = (): SimKvNode[] => cluster.nodes.filter((n) => n.member !== undefined);
  /**
   * `call` on member `preferred` if it runs (a client stays with its member, as etcd's client
   * keeps its keepalive stream on one endpoint), else on one that runs: half the time one that
   * believes it leads (perhaps deposed without knowing it yet), else any. Resolves with the
   * answer and the member asked; `answer` is undefined when none runs, or when it crashed first.
   */
  const onMember = async <T>(
    preferred: number | undefined,
    call: (m: KvMember) => Promise<T>,
  ): Promise<{ node: number | undefined; answer: { ok: T } | { error: unknown } | undefined }> => {
    const up = upMembers();
    if (up.length === 0) return { node: undefined, answer: undefined };
    const leaders = up.filter((n) => n.member!.isLeader);
    const node = up.find((n) => n.id === preferred) ?? (leaders.length > 0 && rand.chance(0.5) ? rand.pick(leaders) : rand.pick(up));
    const crashed = ended.get(node.id)!.then(() => undefined);
    const answer = await Promise.race([call(node.member!).then((ok) => ({ ok }), (error: unknown) => ({ error })), crashed]);
    return { node: node.id, answer };
  };

  try {
    await cluster.start();
    const leases: LeaseRecord[] = [];
    let faults = 0;
    let faultPhase = true;
    let nextLeaseId = 1;

    const client = async (clientId: number): Promise<void> => {
      while (faultPhase) {
        await sleep(rand.between(1, 50));
        const ttl = rand.chance(0.7) ? 1 : 2;
        const id = BigInt(seed) * 1000n + BigInt(nextLeaseId++);
        const lease: LeaseRecord = { id, ttl, renewedAt: [sched.now()], abandonedAt: sched.now(), keepalives: 0 };
        leases.push(lease);
        let via: number | undefined = undefined;
        const granted = await onMember(via, (m) => m.leaseGrant(ttl, { id, timeoutMs: 5 * ET }));
        // The grant may have applied whatever the answer: its send time counts (above), and the
        // time it applied is added to `abandonedAt` at the end.
        if (granted.answer === undefined || !('ok' in granted.answer)) continue;
        via = granted.node;
        await onMember(via, (m) => m.put(`l/${id}`, `c${clientId}`, { lease: id, timeoutMs: 5 * ET }));
        const keepalives = rand.between(0, 20);
        for (let k = 0; k < keepalives && faultPhase; k++) {
          // At most a third of the TTL apart, as etcd's client; often sooner, to probe leader changes.
          await sleep(rand.between(ET / 2, Math.floor((ttl * 1000) / 3)));
          const sentAt = sched.now();
          const timeoutMs = Math.floor((ttl * 1000) / 3);
          const { answer } = await onMember(via, (m) => m.leaseKeepAliveOnce(id, { timeoutMs }));
          lease.abandonedAt = sched.now() + MAX_LATENCY_MS;
          if (answer !== undefined && 'ok' in answer) {
            lease.renewedAt.push(sentAt);
            lease.keepalives++;
            continue;
          }
          // A keepalive failed: the client moves to another member, or, half the time, gives the
          // lease up (a client that lost its connection for longer than the TTL). Right after a
          // deposed leader's last answers, that is what tests a new leader's extension.
          via = undefined;
          if (rand.chance(0.5)) break;
        }
      }
    };

    const nemesis = async (): Promise<void> => {
      const restoring: Promise<void>[] = [];
      while (sched.now() < FAULT_PHASE_MS) {
        await sleep(rand.between(50, 300));
        faults++;
        const leader = upMembers().find((n) => n.member!.isLeader);
        const id = leader !== undefined && rand.chance(0.7) ? leader.id : rand.between(1, cluster.nodes.length);
        // Cut off both ways twice as often as the others: a leader isolated from its followers
        // is deposed by CheckQuorum while they elect another, and may answer keepalives meanwhile.
        const kind = Math.max(0, rand.between(-1, 5));
        if (kind === 0) {
          for (const other of cluster.nodes) if (other.id !== id) (cluster.network.cutLink(id, other.id), cluster.network.cutLink(other.id, id));
          restoring.push(sleep(rand.between(ET, 6 * ET)).then(() => {
            for (const other of cluster.nodes) if (other.id !== id) (cluster.network.healLink(id, other.id), cluster.network.healLink(other.id, id));
          }));
        } else if (kind === 1) {
          // One way: `id` hears the others, they do not hear it (as a leader, it loses its
          // quorum's answers and is deposed by CheckQuorum while the others elect another).
          for (const other of cluster.nodes) if (other.id !== id) cluster.network.cutLink(id, other.id);
          restoring.push(sleep(rand.between(ET, 5 * ET)).then(() => {
            for (const other of cluster.nodes) if (other.id !== id) cluster.network.healLink(id, other.id);
          }));
        } else if (kind === 2) {
          // The other way: the others hear `id`, it hears nobody (as a leader, deposed by
          // CheckQuorum while its followers still take its word until they time out).
          for (const other of cluster.nodes) if (other.id !== id) cluster.network.cutLink(other.id, id);
          restoring.push(sleep(rand.between(ET, 5 * ET)).then(() => {
            for (const other of cluster.nodes) if (other.id !== id) cluster.network.healLink(other.id, id);
          }));
        } else if (kind === 3) {
          // Power loss: the process dies, its Raft log loses what was not fsynced; back later.
          crash(id);
          restoring.push(sleep(rand.between(20, 4 * ET)).then(() => cluster.restart(id)));
        } else if (kind === 4) {
          const end = cluster.network.burst(rand.between(20, 60) / 100, rand.between(0, 10) / 100);
          restoring.push(sleep(rand.between(ET / 2, 4 * ET)).then(end));
        } else if (rho > 0) {
          cluster.setClockRate(id, rand.between(Math.round((1 - rho) * 1000), Math.round((1 + rho) * 1000)) / 1000);
        }
      }
      await Promise.all(restoring);
    };

    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    let nemesisDone = false;
    void nemesis().then(() => (nemesisDone = true));
    await sched.run(FAULT_PHASE_MS + 20 * ET, () => nemesisDone);
    expect(nemesisDone, `seed ${seed}: the faults did not end`).toBe(true);
    faultPhase = false;
    // The faults end: every link healed, every node running (clocks keep their drift).
    cluster.network.healAll();
    cluster.network.endBursts();
    for (const n of cluster.nodes) await cluster.restart(n.id);
    const healedAt = sched.now();
    let clientsDone = false;
    void Promise.all(clients).then(() => (clientsDone = true));

    // Every lease granted (or perhaps granted) is revoked on every member, by expiry.
    const leaseTablesEmpty = (): boolean => cluster.nodes.every((n) => n.kv!.store.leases().length === 0);
    await sched.run(sched.now() + 200 * ET, () => clientsDone && leaseTablesEmpty());
    expect(clientsDone, `seed ${seed}: clients did not finish`).toBe(true);
    expect(cluster.errors.map(String), `seed ${seed}: members failed`).toEqual([]);
    // The last leader's election: when it took the role it holds now (its lessor promotes once
    // its first entry commits, within COMMIT_SLACK_MS).
    const leader = cluster.nodes.find((n) => n.member!.isLeader);
    expect(leader, `seed ${seed}: no leader once the faults ended`).toBeDefined();
    const stableSince = Math.max(healedAt, leaderSince.get(leader!.id)!);

    let minSafetySlackMs = Infinity;
    let maxLivenessUseMs = -Infinity;
    let keepalivesAcked = 0;
    let revokeCount = 0;
    for (const lease of leases) {
      keepalivesAcked += lease.keepalives;
      const applied = revokes.get(lease.id) ?? [];
      if (applied.length === 0) {
        // Never granted (its grant failed before reaching the log, or answered "exists").
        continue;
      }
      revokeCount++;
      const where = `seed ${seed}, lease ${lease.id} (TTL ${lease.ttl} s, granted or renewed at ${lease.renewedAt.join(', ')})`;
      // Agreement: one index and one revision, once per member (or a snapshot past it).
      const index = applied[0]!.index;
      const revision = applied[0]!.revision;
      for (const a of applied) {
        if (a.index !== index || a.revision !== revision) failures.push(`${where}: node ${a.node} applied its revoke at index ${a.index}, revision ${a.revision}; node ${applied[0]!.node} at ${index}, ${revision}`);
      }
      for (const n of cluster.nodes) {
        const mine = applied.filter((a) => a.node === n.id);
        if (mine.length > 1) failures.push(`${where}: node ${n.id} applied its revoke ${mine.length} times`);
        if (mine.length === 0 && !(installs.get(n.id) ?? []).some((i) => i >= index)) failures.push(`${where}: node ${n.id} never applied its revoke (index ${index})`);
      }
      // Safety: not before TTL (drift allowed) since the last renewal the client knew of.
      const first = Math.min(...applied.map((a) => a.at));
      const notBefore = Math.max(...lease.renewedAt) + (lease.ttl * 1000) / (1 + rho) - driftMarginMs(rho);
      minSafetySlackMs = Math.min(minSafetySlackMs, first - notBefore);
      if (first < notBefore) failures.push(`${where}: revoked at ${first}, before ${notBefore.toFixed(1)}`);
      // Liveness: revoked everywhere soon enough after it was abandoned under a stable leader.
      const abandonedAt = Math.max(lease.abandonedAt, grantsApplied.get(lease.id) ?? 0);
      const deadline = Math.max(abandonedAt, stableSince) + (lease.ttl * 1000 + ET + CHECK_INTERVAL_MS) / (1 - rho) + COMMIT_SLACK_MS;
      const last = Math.max(...applied.map((a) => a.at));
      maxLivenessUseMs = Math.max(maxLivenessUseMs, last - (deadline - COMMIT_SLACK_MS));
      if (last > deadline) failures.push(`${where}: abandoned at ${abandonedAt.toFixed(1)}, leader stable since ${stableSince}, revoked everywhere only at ${last} (deadline ${deadline.toFixed(1)})`);
    }
    if (failures.length > 0) throw new Error(`seed ${seed}:\n${failures.slice(0, 10).join('\n')}${failures.length > 10 ? `\n... ${failures.length - 10} more` : ''}`);
    expect(cluster.nodes.map((n) => n.kv!.store.leases().map((l) => String(l.id))), `seed ${seed}: leases never revoked`).toEqual(cluster.nodes.map(() => []));
    for (const n of cluster.nodes) {
      expect(n.kv!.store.range({ key: Buffer.from('l/'), rangeEnd: Buffer.from('l0') }).kvs.length, `seed ${seed}: node ${n.id} kept keys of revoked leases`).toBe(0);
    }
    return { leases: leases.length, keepalivesAcked, revokes: revokeCount, faults, minSafetySlackMs, maxLivenessUseMs };
  } finally {
    for (const n of cluster.nodes) if (n.member !== undefined) crash(n.id);
    await cluster.settled();
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

it(`lease timing under faults and clock drift (ρ = ${DRIFT}): ${REPLAY === undefined ? Math.max(SCHEDULES, FIXED_SEEDS.length) : 1} schedules`, { timeout: 600_000 }, async () => {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const baseDir = await mkdtemp(join(base, 'kv-lease-sim-'));
  const fresh = freshSeed();
  const seeds =
    REPLAY !== undefined
      ? [Number(REPLAY)]
      : [...FIXED_SEEDS, ...Array.from({ length: Math.max(0, SCHEDULES - FIXED_SEEDS.length) }, (_, i) => fresh + i)];
  if (REPLAY === undefined) console.log(`kv lease sim: fixed seeds 1..${FIXED_SEEDS.length}, fresh seeds from ${fresh} (replay one with PONTOON_KV_LEASE_SIM_SEED=<seed>)`);
  const totals = { schedules: 0, leases: 0, keepalivesAcked: 0, revokes: 0, faults: 0, minSafetySlackMs: Infinity, maxLivenessUseMs: -Infinity };
  try {
    for (const seed of seeds) {
      let r: ScheduleReport;
      try {
        r = await runSchedule(seed, baseDir);
      } catch (err) {
        throw new Error(`kv lease sim failed at seed ${seed} (replay: PONTOON_KV_LEASE_SIM_SEED=${seed}): ${(err as Error).message}`, { cause: err });
      }
      totals.schedules++;
      totals.leases += r.leases;
      totals.keepalivesAcked += r.keepalivesAcked;
      totals.revokes += r.revokes;
      totals.faults += r.faults;
      totals.minSafetySlackMs = Math.min(totals.minSafetySlackMs, r.minSafetySlackMs);
      totals.maxLivenessUseMs = Math.max(totals.maxLivenessUseMs, r.maxLivenessUseMs);
    }
  } finally {
    await rm(baseDir, { recursive: true, force: true });
  }
  console.log(`kv lease sim: ${JSON.stringify(totals)}`);
  expect(totals.schedules).toBe(seeds.length);
  // The faults must leave room for work: leases granted, kept alive, and expired.
  expect(totals.revokes).toBeGreaterThan(seeds.length * CLIENTS);
  expect(totals.keepalivesAcked).toBeGreaterThan(seeds.length * CLIENTS);
});
