#!/usr/bin/env node
// Prints "gateway / secure store / all" CPU ms per request of one scenario of a read-customer
// result file (for bench/read-compare.sh; "all" is the gateway, the store, PostgreSQL and NATS,
// without the load generator and the rest of the machine):  node bench/lib/cpu-of.mjs <result.json> <scenario id>
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [path, id] = process.argv.slice(2);
const file = statSync(path, { throwIfNoEntry: false })
  ? path
  : join(
      path.replace(/\/[^/]*$/, ''),
      readdirSync(path.replace(/\/[^/]*$/, '')).find((f) => f.endsWith('-read-customer.json')),
    );
const scenario = JSON.parse(readFileSync(file, 'utf8')).scenarios.find((s) => s.id === id);
const parts = scenario.cpu.components;
const all = Object.entries(parts)
  .filter(([name]) => name !== 'bench' && name !== 'other')
  .reduce((sum, [, c]) => sum + c.msPerRequest, 0);
process.stdout.write(
  `${parts.gateway.msPerRequest.toFixed(2)} / ${parts.secure.msPerRequest.toFixed(2)} / ${all.toFixed(2)}`,
);
