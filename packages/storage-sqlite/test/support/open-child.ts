/** Tries to open the store in argv[2] from another process; prints the outcome's error code. */
import { SqliteLogStore } from '../../src/index.js';

try {
  const store = await SqliteLogStore.open(process.argv[2]!);
  process.stdout.write('opened\n');
  await store.close();
} catch (err) {
  process.stdout.write(`${(err as { code?: string }).code ?? String(err)}\n`);
}
