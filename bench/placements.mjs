#!/usr/bin/env node
// The data router alone, at 1 to 1,000 tenants: one primary-key read per unit of work through
// DataSourceRouter (built libs, real PostgreSQL), on schema placements (one shared pool per server)
// and on the old layout, a database per tenant (a pool per database within the same connection
// budget), side by side in one run. No gateway, NATS, decryption or audit: what the placements
// themselves cost and how they scale with the tenant count.
//
// Setup: BENCH_PLACEMENT_TENANTS (default 1,50,200,1000) schemas in one shared database (a
// NOINHERIT runtime login that is a member of every tenant role, like the stores' ps_<store>_runtime)
// and BENCH_PLACEMENT_DB_TENANTS (default 1,50,200) databases, each holding a one-row `marker`
// table naming its tenant. Each scenario: a fresh router with the stores' defaults (budget from
// the server: 25% of max_connections - reserved - 10, shared pool 20, tenant cap 10, pool 2 per
// database), every tenant read once (warm), then BENCH_PLACEMENT_CONCURRENCY (50) workers read a
// uniformly random tenant for BENCH_PLACEMENT_DURATION_S (10) s. Every read checks it saw its own
// tenant's row and nothing else. Reports req/s, p50/p99, errors, wrong reads and the peak of the
// router's connections (pg_stat_activity). Writes bench/results/<stamp>-placements.{json,md} and
// latest-placements.md, then drops everything it created (also on Ctrl-C or an error).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSourceRouter } from '#polystore/data-router';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { ROOT, envInt as int } from './lib/config.mjs';
import { machineInfo } from './lib/machine.mjs';
import { adminQuery } from './lib/pg.mjs';
import { fileStamp } from './lib/report.mjs';

const log = (line) => console.log(line);
const list = (name, fallback) =>
  (process.env[name] ?? fallback)
    .split(',')
    .map((v) => Number(v.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);

const settings = {
  serverUrl: process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432',
  schemaTenants: list('BENCH_PLACEMENT_TENANTS', '1,50,200,1000'),
  databaseTenants: list('BENCH_PLACEMENT_DB_TENANTS', '1,50,200'),
  concurrency: int('BENCH_PLACEMENT_CONCURRENCY', 50),
  durationS: int('BENCH_PLACEMENT_DURATION_S', 10),
  rounds: int('BENCH_PLACEMENT_ROUNDS', 3),
};
const run = Math.random().toString(36).slice(2, 8);
const shared = `ps_bp_${run}_shared`;
const login = { username: `ps_bp${run}_runtime`, password: `pw_${run}_benchonly_0123456789` };
const schemaOf = (i) => `ps_bp${run}_t${i}`;
const databaseOf = (i) => `ps_bp_${run}_d${i}`;
const tenantOf = (i) => parseTenantSlug(`t${i}`);
const indexOf = (tenant) => Number(tenant.slice(1));

/** One statement on a database of the server (the maintenance database by default). */
function query(sql, database = 'postgres', params = []) {
  return adminQuery(settings.serverUrl, sql, params, database);
}

async function setup() {
  const schemas = Math.max(...settings.schemaTenants);
  const databases = Math.max(0, ...settings.databaseTenants);
  log(`setup: ${schemas} schemas in ${shared}, ${databases} databases`);
  await query(`CREATE DATABASE "${shared}"`);
  await query(`CREATE ROLE "${login.username}" LOGIN NOINHERIT PASSWORD '${login.password}'`);
  for (let start = 0; start < schemas; start += 250) {
    const statements = [];
    for (let i = start; i < Math.min(schemas, start + 250); i++) {
      const name = schemaOf(i);
      statements.push(
        `CREATE ROLE "${name}" NOLOGIN`,
        `GRANT "${name}" TO "${login.username}"`,
        `CREATE SCHEMA "${name}" AUTHORIZATION "${name}"`,
        `CREATE TABLE "${name}".marker (id int PRIMARY KEY, tenant varchar(40) NOT NULL)`,
        `INSERT INTO "${name}".marker VALUES (1, 't${i}')`,
        `ALTER TABLE "${name}".marker OWNER TO "${name}"`,
      );
    }
    await query(statements.join(';\n'), shared);
  }
  for (let i = 0; i < databases; i++) {
    await query(`CREATE DATABASE "${databaseOf(i)}"`);
    await query(
      `CREATE TABLE marker (id int PRIMARY KEY, tenant varchar(40) NOT NULL); INSERT INTO marker VALUES (1, 't${i}')`,
      databaseOf(i),
    );
  }
}

async function cleanup() {
  log('cleanup');
  await query(`DROP DATABASE IF EXISTS "${shared}" WITH (FORCE)`).catch(() => undefined);
  const databases = await query('SELECT datname FROM pg_database WHERE datname LIKE $1', 'postgres', [
    `ps\\_bp\\_${run}\\_%`,
  ]);
  for (const { datname } of databases) await query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  const roles = await query('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', 'postgres', [`ps\\_bp${run}\\_%`]);
  for (let i = 0; i < roles.length; i += 250)
    await query(
      roles
        .slice(i, i + 250)
        .map((r) => `DROP ROLE IF EXISTS "${r.rolname}"`)
        .join(';'),
    );
}

function routerFor(layout, applicationName) {
  return new DataSourceRouter({
    name: 'bench',
    resolvePlacement: (tenant) => {
      const i = indexOf(tenant);
      return Promise.resolve(
        layout === 'schema'
          ? { tenant, serverUrl: settings.serverUrl, database: shared, kind: 'schema', schema: schemaOf(i), version: 1 }
          : { tenant, serverUrl: settings.serverUrl, database: databaseOf(i), kind: 'database', version: 1 },
      );
    },
    schema: { entities: [] },
    // The stores' defaults (libs/runtime common-config.ts).
    poolSize: 2,
    connectionBudget: 40,
    serverShare: { share: 0.25, reserve: 10 },
    sharedPoolSize: 20,
    idleTtlMs: 60_000,
    maxWaiters: 500,
    acquireTimeoutMs: 3_000,
    breaker: { consecutiveFailures: 3, halfOpenAfterMs: 2_000 },
    applicationName,
    sharedLogin: () => login,
  });
}

/** Samples the router's connections (by application_name) every 50 ms until stopped; returns the peak. */
function sampleConnections(applicationName) {
  let running = true;
  let peak = 0;
  const loop = (async () => {
    while (running) {
      const rows = await query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        'postgres',
        [applicationName],
      ).catch(() => [{ n: 0 }]);
      peak = Math.max(peak, rows[0].n);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peak;
  };
}

async function read(router, tenant) {
  return runAsTenant(tenant, () => router.run((db) => db.query('SELECT tenant FROM marker WHERE id = 1')), 30_000);
}

async function scenario(layout, tenants) {
  const applicationName = `ps-bench-${layout}-${tenants}-${run}`;
  const router = routerFor(layout, applicationName);
  const stopSampling = sampleConnections(applicationName);
  let ok = 0;
  let errors = 0;
  let wrong = 0;
  const latencies = [];
  try {
    // Warm: every tenant once (not measured).
    for (let i = 0; i < tenants; i += settings.concurrency)
      await Promise.all(
        Array.from({ length: Math.min(settings.concurrency, tenants - i) }, (_, k) =>
          read(router, tenantOf(i + k)).catch(() => undefined),
        ),
      );
    const ends = performance.now() + settings.durationS * 1_000;
    await Promise.all(
      Array.from({ length: settings.concurrency }, async () => {
        while (performance.now() < ends) {
          const i = Math.floor(Math.random() * tenants);
          const started = performance.now();
          try {
            const rows = await read(router, tenantOf(i));
            latencies.push(performance.now() - started);
            if (rows.length === 1 && rows[0].tenant === `t${i}`) ok++;
            else wrong++;
          } catch {
            errors++;
          }
        }
      }),
    );
    const stats = router.stats();
    return {
      layout,
      tenants,
      reqPerS: Math.round(ok / settings.durationS),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      errors,
      wrong,
      peakConnections: await stopSampling(),
      budget: stats.servers[0]?.connectionBudget ?? null,
      opened: stats.opened,
    };
  } finally {
    await stopSampling();
    await router.close();
  }
}

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 10) / 10;
}

function render(result) {
  const byKey = new Map(result.scenarios.map((s) => [`${s.layout}-${s.tenants}`, s]));
  const base = byKey.get(`schema-${Math.min(...settings.schemaTenants)}`);
  const ratio = (a, b) => (a && b && b.reqPerS ? `${(a.reqPerS / b.reqPerS).toFixed(2)}×` : '–');
  const lines = [
    '# The data router alone: schema placements vs a database per tenant, 1 to 1,000 tenants',
    '',
    `Run ${result.startedAt} on ${result.machine.cpuCount} × ${result.machine.cpuModel}, ${result.machine.totalMemoryGiB} GiB, ${result.machine.os}, Node ${result.machine.nodeVersion}, ${result.machine.postgresVersion} (max_connections ${result.machine.postgresMaxConnections}); load average at the start ${result.machine.loadAverageAtStart.join(' / ')}. Code: \`${result.machine.git.commit}\`${result.machine.git.uncommittedInCode.length ? ' (with uncommitted changes)' : ''}.`,
    `Each scenario: a fresh DataSourceRouter with the stores' defaults (budget from the server, shared pool 20, tenant cap 10, pool 2 per database), every tenant read once, then ${settings.concurrency} workers reading a random tenant's one-row marker for ${settings.durationS} s. Every read checks it saw its own tenant's row. ${settings.rounds} rounds, the scenarios interleaved; each row is the round with the median throughput (every round's reads/s in the last column); errors and wrong reads are summed over all rounds, connections are the peak of all rounds.`,
    '',
    '| layout | tenants | reads/s | vs schema, 1 tenant | p50 ms | p99 ms | errors | wrong-tenant reads | peak connections | budget | DataSources/pools opened | rounds (reads/s) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...result.scenarios.map(
      (s) =>
        `| ${s.layout === 'schema' ? 'schema (one shared pool)' : 'database per tenant (old layout)'} | ${s.tenants} | ${s.reqPerS.toLocaleString('en-US')} | ${ratio(s, base)} | ${s.p50} | ${s.p99} | ${s.errors} | ${s.wrong} | ${s.peakConnections} | ${s.budget} | ${s.opened} | ${s.rounds.join(', ')} |`,
    ),
    '',
  ];
  const top = Math.max(...settings.schemaTenants);
  lines.push(
    `- **Flatness: schema placements at ${top} tenants / at ${base?.tenants} tenant = ${ratio(byKey.get(`schema-${top}`), base)}**`,
  );
  for (const n of settings.databaseTenants) {
    const schema = byKey.get(`schema-${n}`);
    const database = byKey.get(`database-${n}`);
    if (schema && database)
      lines.push(`- ${n} tenants: schema placements / a database per tenant = **${ratio(schema, database)}**`);
  }
  lines.push(
    '',
    'Absolute numbers on a shared 2-core machine are noisy: compare ratios within one run. Raw numbers: the JSON file of the same stamp.',
    '',
  );
  return lines.join('\n');
}

let cleaned = false;
async function cleanupOnce() {
  if (cleaned) return;
  cleaned = true;
  await cleanup();
}
process.once('SIGINT', () => {
  void cleanupOnce().finally(() => process.exit(130));
});

try {
  const startedAt = new Date().toISOString();
  const machine = await machineInfo(settings.serverUrl);
  await setup();
  const plan = [
    ...settings.schemaTenants.map((n) => ['schema', n]),
    ...settings.databaseTenants.map((n) => ['database', n]),
  ];
  // Rounds interleave the scenarios, so a change in the machine's load hits all of them alike;
  // each scenario reports the round with its median throughput.
  const runs = new Map(plan.map(([layout, tenants]) => [`${layout}-${tenants}`, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const [layout, tenants] of plan) {
      log(`round ${round}: ${layout}, ${tenants} tenants`);
      const measured = await scenario(layout, tenants);
      log(`  ${JSON.stringify(measured)}`);
      runs.get(`${layout}-${tenants}`).push(measured);
    }
  }
  const scenarios = [...runs.values()].map((all) => {
    const sorted = [...all].sort((a, b) => a.reqPerS - b.reqPerS);
    const median = sorted[Math.floor(sorted.length / 2)];
    return {
      ...median,
      errors: all.reduce((n, r) => n + r.errors, 0),
      wrong: all.reduce((n, r) => n + r.wrong, 0),
      peakConnections: Math.max(...all.map((r) => r.peakConnections)),
      rounds: all.map((r) => r.reqPerS),
    };
  });
  const result = { startedAt, machine, settings, scenarios };
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = fileStamp(new Date(startedAt));
  writeFileSync(join(dir, `${stamp}-placements.json`), JSON.stringify(result, null, 2));
  const markdown = render(result);
  writeFileSync(join(dir, `${stamp}-placements.md`), markdown);
  writeFileSync(join(dir, 'latest-placements.md'), markdown);
  log(markdown);
} finally {
  await cleanupOnce();
}
