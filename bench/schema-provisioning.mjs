#!/usr/bin/env node
// A tenant schema made and dropped two ways on one PostgreSQL server, side by side: with the
// provisioning login (its DDL on an administrative connection), and with the store's runtime login
// through the SECURITY DEFINER functions `polystore db-roles` installs (docs/security.md,
// "PostgreSQL stores without a provisioning login"). BENCH_SCHEMAS (40) schemas per batch, one at a
// time, BENCH_ROUNDS (4) rounds alternating which way goes first. Throwaway logins of its own
// (the functions' owner is handed over to them; db-roles takes it back). Writes
// bench/results/<stamp>-schema-provisioning.md and latest-schema-provisioning.md.
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { SchemaAdmin, ServerRoles } from '#polystore/data-router';
import { writeReport } from './lib/report.mjs';

const SCHEMAS = Number(process.env.BENCH_SCHEMAS ?? 40);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const server = new URL(process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432');
const database = 'polystore_edge';
const provisioner = 'polystore_bench_provisioner';
const runtime = {
  username: 'ps_edge_runtime',
  password: randomBytes(24).toString('base64url'),
  databasePrefix: 'ps_edge_',
  batchRole: 'ps_edge_batch',
};
const urlAs = (login) => {
  const url = new URL(server);
  url.username = login;
  url.password = '';
  return url.toString();
};
await ServerRoles.ensureProvisioner(server.toString(), { username: provisioner }, [database]);
await ServerRoles.ensureSchemaProvisioning(server.toString(), provisioner, runtime, database);
const ways = { provisioner: urlAs(provisioner), function: urlAs(runtime.username) };
const perSchema = { provisioner: [], function: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const way of round % 2 ? ['function', 'provisioner'] : ['provisioner', 'function']) {
    const names = Array.from({ length: SCHEMAS }, () => `ps_edge_${randomBytes(16).toString('hex')}`);
    const started = performance.now();
    for (const name of names) await SchemaAdmin.ensureTenantSchema(ways[way], database, name, runtime);
    perSchema[way].push((performance.now() - started) / SCHEMAS);
    for (const name of names) await SchemaAdmin.dropTenantSchema(ways[way], database, name, runtime);
    console.log(`round ${round + 1} ${way}: ${perSchema[way].at(-1).toFixed(1)} ms per schema`);
  }
}
const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;
const ratio = mean(perSchema.function) / mean(perSchema.provisioner);
const report = [
  '# A tenant schema made with the provisioning login, and with the runtime login through the functions',
  '',
  `Run ${new Date().toISOString()} on ${cpus().length} x ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; PostgreSQL at ${server.host}.`,
  `${SCHEMAS} schemas per batch, one at a time (a new connection each, as the stores do), ${ROUNDS} rounds alternating which way goes first; the drops are not timed.`,
  '',
  '| round | provisioning login, ms per schema | runtime login + function, ms per schema |',
  '| --- | ---: | ---: |',
  ...perSchema.provisioner.map((ms, i) => `| ${i + 1} | ${ms.toFixed(1)} | ${perSchema.function[i].toFixed(1)} |`),
  `| mean | ${mean(perSchema.provisioner).toFixed(1)} | ${mean(perSchema.function).toFixed(1)} |`,
  '',
  `**Through the function: ${ratio.toFixed(2)}x the time of the provisioning login's DDL.**`,
  '',
].join('\n');
writeReport('schema-provisioning', report);
console.log(`function / provisioning login: ${ratio.toFixed(2)}x`);
process.exit(0);
