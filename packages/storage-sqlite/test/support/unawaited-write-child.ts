/**
 * Opens the store in argv[2], issues one append without awaiting it and without ever closing
 * the store, and prints `durable` when it resolves: the process must stay alive until then (and
 * no longer: an idle store holds nothing open).
 */
import { SqliteLogStore } from '../../src/index.js';

const store = await SqliteLogStore.open(process.argv[2]!);
void store
  .append({ entries: [{ index: 1, term: 1, type: 0, data: new Uint8Array(8) }], hardState: { term: 1, vote: 1, commit: 0 } })
  .then(() => process.stdout.write('durable\n'));
