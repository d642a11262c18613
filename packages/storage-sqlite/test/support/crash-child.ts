/**
 * The child of the crash test (crash.test.ts). Loads, then waits for "go" on stdin; opens the
 * store in argv[2] and writes to it as a Raft follower's driver would, forever: batches of
 * entries with the hard state, now and then a new leader's rewrite of the last entries, now and
 * then a snapshot and a compaction. After each append resolves it prints
 * `durable <lastIndex> <term>`: a promise the parent holds it to after a SIGKILL.
 */
import { SqliteLogStore } from '../../src/index.js';
import { crashEntry, SeededRandom } from './crash-log.js';

const dir = process.argv[2]!;
const seed = Number(process.argv[3] ?? 1);

process.stdin.once('data', () => {
  run().catch((err: unknown) => {
    process.stderr.write(`crash-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(3);
  });
});
process.stdout.write('ready\n');

async function run(): Promise<void> {
  const rand = new SeededRandom(seed);
  const store = await SqliteLogStore.open(dir);
  process.stdout.write('opened\n');
  let last = store.lastIndex();
  let term = Math.max(1, store.initialState().hardState.term, store.term(last));
  let snapshotIndex = store.snapshot().metadata.index;
  for (let round = 0; ; round++) {
    const r = rand.next();
    let from = last + 1;
    if (r < 0.1 && last - 2 > snapshotIndex) {
      // A new leader overwrites an uncommitted suffix and goes on further.
      term++;
      from = last - 2;
    }
    const count = from === last + 1 ? 1 + Math.floor(rand.next() * 64) : 8;
    const entries = [];
    for (let i = from; i < from + count; i++) entries.push(crashEntry(i, term));
    await store.append({ entries, hardState: { term, vote: 1, commit: Math.max(0, from - 3) } });
    last = from + count - 1;
    process.stdout.write(`durable ${last} ${term}\n`);
    if (round % 16 === 15) {
      await store.createSnapshot(last, { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }, new TextEncoder().encode(`sm@${last}`));
      snapshotIndex = last;
      if (last - 20 > store.firstIndex()) await store.compact(last - 20);
    }
  }
}
