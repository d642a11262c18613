/**
 * An Echo instance as a process of its own, so that a crash is a real one (SIGKILL: no
 * deregistration, no goodbye on its connections):
 *
 *     tsx instance-main.ts --endpoints=http://127.0.0.1:2379 [--service=echo] [--ttl=3]
 *
 * Prints one JSON line on stdout once registered (`{"address","key","lease"}`). SIGTERM or
 * SIGINT deregisters and stops it (exit 0).
 */
import { parseArgs } from 'node:util';
import { startServiceInstance } from './service-instance.js';

const { values } = parseArgs({
  options: { endpoints: { type: 'string' }, service: { type: 'string', default: 'echo' }, ttl: { type: 'string', default: '3' } },
});
if (values.endpoints === undefined) {
  console.error('usage: instance-main.ts --endpoints=URL[,URL...] [--service=echo] [--ttl=3]');
  process.exit(2);
}
const instance = await startServiceInstance({
  endpoints: values.endpoints.split(','),
  service: values.service,
  ttlSeconds: Number(values.ttl),
  events: {
    reregistered: (lease) => console.error(`lost the lease; registered again under lease ${lease}`),
    failed: (err) => console.error(`could not register again yet: ${String(err)}`),
  },
});
console.log(JSON.stringify({ address: instance.address, key: instance.registration.key, lease: await instance.registration.leaseId() }));

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  instance.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`stop failed: ${String(err)}`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent holds our stdin open: when it goes away (even killed), stdin ends and we stop
// rather than stay registered as an orphan.
process.stdin.on('end', stop);
process.stdin.resume();
