/**
 * Rewrites the expected outputs of an interaction scenario file with what the harness prints now
 * (etcd's datadriven -rewrite): for writing a new scenario, or updating one after a deliberate
 * change of behaviour. Read the diff before committing it.
 *
 *   tsx --conditions=@pontoon/source packages/raft/test/conformance/rewrite-scenario.ts <file.txt>
 */
import fs from 'node:fs';
import { parseDatadriven } from './datadriven.js';
import { interactionHandler } from './interaction-env.js';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: rewrite-scenario.ts <scenario.txt>');
  process.exit(64);
}
const text = fs.readFileSync(file, 'utf8');
const lines = text.split('\n');
const handler = interactionHandler();
const out: string[] = [];
let at = 0;
for (const d of parseDatadriven(text, file)) {
  // The directive's own line (1-based in pos); its input runs up to the "----" separator.
  const line = Number(d.pos.slice(d.pos.lastIndexOf(':') + 1)) - 1;
  let sep = line;
  while (lines[sep] !== '----') sep++;
  for (; at <= sep; at++) out.push(lines[at]!);
  // Skip the old output: a long form (a second "----") or up to the blank line.
  if (lines[at] === '----') {
    at++;
    while (!(lines[at] === '----' && lines[at + 1] === '----')) at++;
    at += 2;
  } else {
    while (at < lines.length && lines[at] !== '') at++;
  }
  let actual = handler(d);
  if (actual === '') actual = 'ok\n';
  if (!actual.endsWith('\n')) actual += '\n';
  const body = actual.slice(0, -1);
  if (body.split('\n').includes('')) out.push('----', body, '----', '----');
  else out.push(body);
}
for (; at < lines.length; at++) out.push(lines[at]!);
fs.writeFileSync(file, out.join('\n'));
