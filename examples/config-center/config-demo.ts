/**
 * The story main.ts tells, against any etcd v3 cluster: an operator changes the settings of a
 * checkout service while instances of it run with them. Each step waits (bounded) until the
 * programs caught up, says what they saw, and throws if it is not what a configuration center
 * promises; the report it returns lets a test check the same.
 */
import { Etcd3 } from 'etcd3';
import { formatCheckoutSettings, parseCheckoutSettings, type CheckoutSettings } from './checkout-settings.js';
import { configPrefix, settingKey } from './config-keys.js';
import { type ConfigFollower, type ConfigUpdate, followConfig } from './config-follower.js';
import { type ConfigSnapshot, readConfig } from './config-snapshot.js';

/** Options of runConfigCenterDemo. */
export interface ConfigCenterDemoOptions {
  /** The cluster's client URLs. */
  readonly endpoints: readonly string[];
  /** Where the story goes, a line at a time. */
  readonly print: (line: string) => void;
  /** How long a program may take to see a change before the demo gives up (default 30 s). */
  readonly stepTimeoutMs?: number;
}

/** What one program saw. */
export interface ProgramReport {
  readonly name: string;
  /** The revision of its first read. */
  readonly readAt: number;
  readonly updates: readonly ConfigUpdate[];
  readonly final: ConfigSnapshot;
}

/** What the demo saw, and the revisions of the operator's writes. */
export interface ConfigCenterDemoReport {
  /** `first` runs from the start; `late` read, then the operator wrote, then it watched; `stale` read, then history was compacted past its read. */
  readonly programs: { readonly first: ProgramReport; readonly late: ProgramReport; readonly stale: ProgramReport };
  /** The revision of each operator write, by name. */
  readonly writes: Readonly<Record<'rateLimit200' | 'moveDb' | 'dropNewUi' | 'rateLimit300' | 'rateLimit400' | 'newUiAgain', number>>;
  /** The revision history was compacted to. */
  readonly compactedAt: number;
}

const APP = 'checkout';

/** A checkout service instance: its settings, replaced whole at each update. */
interface Program {
  readonly name: string;
  readonly readAt: number;
  readonly updates: ConfigUpdate[];
  settings: CheckoutSettings;
  follower: ConfigFollower | undefined;
}

/** Runs the story; resolves with what it saw, rejects at the first step that does not hold. */
export async function runConfigCenterDemo(options: ConfigCenterDemoOptions): Promise<ConfigCenterDemoReport> {
  const { print } = options;
  const stepTimeoutMs = options.stepTimeoutMs ?? 30_000;
  // Separate clients, as separate programs would have.
  const operator = new Etcd3({ hosts: [...options.endpoints] });
  const clients: Etcd3[] = [];
  const programs: Program[] = [];

  const read = async (name: string, hosts = options.endpoints): Promise<{ program: Program; snapshot: ConfigSnapshot; etcd: Etcd3 }> => {
    const etcd = new Etcd3({ hosts: [...hosts] });
    clients.push(etcd);
    const snapshot = await readConfig(etcd, APP);
    const program: Program = { name, readAt: snapshot.revision, updates: [], settings: parseCheckoutSettings(snapshot.settings), follower: undefined };
    programs.push(program);
    print(`  ${name} read its settings at revision ${snapshot.revision}: ${formatCheckoutSettings(program.settings)}`);
    return { program, snapshot, etcd };
  };
  const follow = (started: { program: Program; snapshot: ConfigSnapshot; etcd: Etcd3 }): void => {
    const { program } = started;
    program.follower = followConfig(started.etcd, APP, started.snapshot, {
      onUpdate(update) {
        program.updates.push(update);
        // The whole settings object is replaced at once: code that reads program.settings sees
        // the settings of one revision, never a mix of two.
        program.settings = parseCheckoutSettings(update.settings);
        const changes = [...update.changed].map(([k, v]) => `${k}=${v ?? '(deleted)'}`).join(' ');
        print(`  ${program.name} at revision ${update.revision} (${update.source}): ${changes} -> ${formatCheckoutSettings(program.settings)}`);
      },
      onError: (err) => print(`  ${program.name}: ${err instanceof Error ? err.message : String(err)}`),
    });
  };
  const caughtUp = async (program: Program, revision: number): Promise<void> => {
    const deadline = Date.now() + stepTimeoutMs;
    while ((program.follower?.current().revision ?? 0) < revision) {
      if (Date.now() > deadline) throw new Error(`config-center demo: ${program.name} did not reach revision ${revision} within ${stepTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const put = async (setting: string, value: string): Promise<number> => {
    const res = await operator.put(settingKey(APP, setting)).value(value);
    print(`operator: put ${setting}=${value} (revision ${res.header.revision})`);
    return Number(res.header.revision);
  };
  const fail = (what: string): never => {
    throw new Error(`config-center demo: ${what}`);
  };

  try {
    await operator.delete().prefix(configPrefix(APP));
    print(`The operator writes the first settings of "${APP}" under ${configPrefix(APP)}, in one transaction.`);
    const first = await operator
      .if(settingKey(APP, 'rate.limit'), 'Create', '==', 0)
      .then(
        operator.put(settingKey(APP, 'rate.limit')).value('100'),
        operator.put(settingKey(APP, 'db.host')).value('db-a.internal'),
        operator.put(settingKey(APP, 'db.port')).value('5432'),
        operator.put(settingKey(APP, 'feature.new_ui')).value('true'),
      )
      .commit();
    if (!first.succeeded) fail(`someone else configured ${configPrefix(APP)} meanwhile`);

    print('"first" starts: it reads its settings, then follows them from the read\'s revision + 1.');
    const firstProgram = await read('first');
    follow(firstProgram);

    print('The operator changes one setting.');
    const rateLimit200 = await put('rate.limit', '200');
    await caughtUp(firstProgram.program, rateLimit200);

    print('The operator moves the database: host and port in one transaction, if nobody moved it meanwhile.');
    const dbHost = await operator.get(settingKey(APP, 'db.host')).exec();
    const move = await operator
      .if(settingKey(APP, 'db.host'), 'Mod', '==', dbHost.kvs[0]!.mod_revision)
      .then(operator.put(settingKey(APP, 'db.host')).value('db-b.internal'), operator.put(settingKey(APP, 'db.port')).value('6432'))
      .commit();
    if (!move.succeeded) fail('the database setting changed under the operator');
    const moveDb = Number(move.header.revision);
    print(`operator: db.host=db-b.internal db.port=6432 (revision ${moveDb})`);
    await caughtUp(firstProgram.program, moveDb);
    const moved = firstProgram.program.updates.filter((u) => u.revision === moveDb);
    if (moved.length !== 1 || moved[0]!.changed.size !== 2) fail(`the move reached "first" as ${moved.length} updates`);

    print('The operator deletes a setting: "first" falls back to its default.');
    const dropNewUi = Number((await operator.delete().key(settingKey(APP, 'feature.new_ui'))).header.revision);
    print(`operator: delete feature.new_ui (revision ${dropNewUi})`);
    await caughtUp(firstProgram.program, dropNewUi);

    print('"late" reads its settings; the operator writes before "late" starts watching.');
    const lateProgram = await read('late');
    const rateLimit300 = await put('rate.limit', '300');
    follow(lateProgram);
    await caughtUp(lateProgram.program, rateLimit300);
    if (lateProgram.program.settings.rateLimit !== 300) fail('"late" missed the change made between its read and its watch');

    print('"stale" reads its settings; before it watches, two writes and a compaction remove the history it would need.');
    // "stale" and the compaction go through one member: a member answers a compaction once it
    // applied it, while another may still have the history for a moment, and serve the watch.
    const oneMember = options.endpoints.slice(0, 1);
    const staleProgram = await read('stale', oneMember);
    const rateLimit400 = await put('rate.limit', '400');
    const newUiAgain = await put('feature.new_ui', 'true');
    const compactor = new Etcd3({ hosts: [...oneMember] });
    clients.push(compactor);
    await compactor.kv.compact({ revision: String(newUiAgain), physical: true });
    print(`operator: compact to revision ${newUiAgain}`);
    follow(staleProgram);
    await caughtUp(staleProgram.program, newUiAgain);
    if (staleProgram.program.updates[0]?.source !== 'reread') fail('"stale" did not read again after its watch was compacted');

    for (const program of programs) await caughtUp(program, newUiAgain);
    const finals = programs.map((p) => formatCheckoutSettings(p.settings));
    if (new Set(finals).size !== 1) fail(`the programs ended with different settings: ${finals.join(' | ')}`);
    print(`All three run with ${finals[0]}.`);

    const report = (p: Program): ProgramReport => ({ name: p.name, readAt: p.readAt, updates: p.updates, final: p.follower!.current() });
    return {
      programs: { first: report(firstProgram.program), late: report(lateProgram.program), stale: report(staleProgram.program) },
      writes: { rateLimit200, moveDb, dropNewUi, rateLimit300, rateLimit400, newUiAgain },
      compactedAt: newUiAgain,
    };
  } finally {
    await Promise.allSettled(programs.map((p) => p.follower?.close()));
    for (const etcd of clients) etcd.close();
    operator.close();
  }
}
