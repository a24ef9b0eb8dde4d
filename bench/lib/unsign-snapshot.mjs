#!/usr/bin/env node
// Turns a snapshot made by bench/snapshot.mjs into its unsigned twin, for bench/context-read.sh
// only: in the snapshot's compiled messaging library, `ContextSigner.sign` adds no signature and
// `ContextVerifier.check` accepts every message. Nothing else differs from the signed snapshot,
// so the two measure exactly what the signature costs on the read path. The source tree is never
// touched; a snapshot whose compiled methods no longer match the patterns fails loudly.
//   node bench/lib/unsign-snapshot.mjs <snapshot directory>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node bench/lib/unsign-snapshot.mjs <snapshot directory>');
  process.exit(2);
}
const file = join(dir, 'dist/libs/messaging/src/context-signature.js');
let text = readFileSync(file, 'utf8');
for (const [name, pattern, body] of [
  [
    'ContextSigner.sign',
    /\bsign\(subject, service, headers, body, now = Date\.now\(\), replyPrefix = DEFAULT_INBOX_PREFIX\) \{/g,
    'return;',
  ],
  ['ContextVerifier.check', /\bcheck\(subject, headers, body, now = Date\.now\(\), reply\) \{/g, 'return undefined;'],
]) {
  const found = text.match(pattern)?.length ?? 0;
  if (found !== 1) throw new Error(`${name}: expected one match in ${file}, found ${found}`);
  text = text.replace(pattern, (match) => `${match} ${body}`);
}
writeFileSync(file, text);
console.log(`unsigned: ${file}`);
