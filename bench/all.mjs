#!/usr/bin/env node
// `npm run bench [-- --profile]`: every benchmark, one after the other (each side by side within
// itself), with the command line's flags passed on (`--profile`: CPU profiles of the apps, see
// bench/README.md). Stops at the first that fails.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  'run.mjs',
  'placements.mjs',
  'reliable.mjs',
  'edge.mjs',
  'saga.mjs',
  'galera.mjs',
  'tenants.mjs',
  'quickstart.mjs',
  'context.mjs',
  'saga-round-trips.mjs',
  'schema-provisioning.mjs',
  'console.mjs',
];
const dir = fileURLToPath(new URL('.', import.meta.url));
for (const bench of BENCHES) {
  const result = spawnSync(process.execPath, [`${dir}${bench}`, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
