#!/usr/bin/env node
// Re-renders the Markdown summary of a finished run from its JSON (after a change to
// lib/report.mjs, say), without measuring again:
//   node bench/render.mjs bench/results/<stamp>-read-customer.json
// Rewrites <stamp>-read-customer.md, and latest-read-customer.md when this is the newest run there.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { renderMarkdown } from './lib/report.mjs';

const path = process.argv[2];
if (!path || !path.endsWith('-read-customer.json')) {
  console.error('usage: node bench/render.mjs bench/results/<stamp>-read-customer.json');
  process.exit(2);
}
const run = JSON.parse(readFileSync(path, 'utf8'));
if (!run.limits) {
  // Runs before schema placements (one pool per tenant database) have no shared-pool limits: their
  // Markdown was written by the report of that time and is kept as it is.
  console.error(`${path} was written by the benchmark before schema placements; its Markdown is kept as written`);
  process.exit(2);
}
const dir = dirname(path);
const markdown = join(dir, basename(path).replace(/\.json$/, '.md'));
writeFileSync(markdown, renderMarkdown(run));
const newest = readdirSync(dir)
  .filter((f) => f.endsWith('-read-customer.json'))
  .sort()
  .at(-1);
if (newest === basename(path)) copyFileSync(markdown, join(dir, 'latest-read-customer.md'));
console.log(`wrote ${markdown}${newest === basename(path) ? ' and latest-read-customer.md' : ''}`);
