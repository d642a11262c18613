/**
 * One election candidate as its own program, on the etcd3 npm client: it campaigns (printing
 * `campaigning <key>`) and prints `elected` once it leads, or `lost <reason>` and exits 1 if
 * its campaign fails (its lease lost). It never resigns: it leads until it is killed.
 *
 *   node --import tsx candidate-process.ts <endpoints,comma-separated> <election> <value> <ttl seconds>
 */
import { Etcd3 } from 'etcd3';

const [endpoints, electionName, value, ttl] = process.argv.slice(2);
if (endpoints === undefined || electionName === undefined || value === undefined || ttl === undefined) {
  console.error('usage: candidate-process.ts <endpoints> <election> <value> <ttl seconds>');
  process.exit(2);
}
const client = new Etcd3({ hosts: endpoints.split(',') });
const campaign = client.election(electionName, Number(ttl)).campaign(value);
void campaign.getCampaignKey().then((key) => console.log(`campaigning ${key}`), () => undefined);
campaign.on('elected', () => console.log('elected'));
campaign.on('error', (err: Error) => {
  console.log(`lost ${err.message}`);
  process.exit(1);
});
