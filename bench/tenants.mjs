#!/usr/bin/env node
// Operations over every tenant: a no-op `migrate` and one usage rollup, each against the least
// work any implementation must do (the baseline), side by side in one run.
//
// Starts a private device broker (bench/lib/device-broker.mjs), the secure, reliable and edge
// stores and a gateway (JOBS='': only
// the measured runs happen), creates BENCH_TENANTS_COUNT tenants (default 300) through the admin
// API, registers one device per tenant (POST /v1/devices, the saga) and pushes
// BENCH_TENANTS_READINGS readings per device (default 20) spread over the last 100 minutes to
// the edge store's HTTP /ingest (202 once the telemetry stream has them; the bench then waits
// until the edge store has committed every one). Then:
//   migrate:  `polystore migrate --store all --tenants all --concurrency 4 --json` (the built CLI,
//             a new process each time) twice, and once with --concurrency 8; every tenant
//             placement is already current, so nothing may be applied. Baseline: the placements
//             of the catalog read directly (pg / mysql2): the schema placements of a shared
//             database (secure and edge on PostgreSQL, by default) on one connection to it, one
//             statement reading every schema's migrations table; each database placement
//             (reliable on MariaDB) on a connection of its own, 4 tenants at once; each compared
//             with the store's migrations.
//   rollup:   `polystore jobs run usage-rollup --json` (first run: inserts), checked against
//             the usage records in MariaDB, then a rerun (nothing changed: replays). Baseline:
//             per tenant, the device ids (mysql2, a connection to the tenant's database), the
//             edge aggregate per device per hour over the job's window (pg, the job's query on
//             the tenant's schema, on a pool of connections to the shared database, or on a
//             connection to a database placement) and one INSERT ... ON DUPLICATE KEY UPDATE of
//             the counts (mysql2, a metric of its own), as many tenants at once as the job runs.
// Reports wall time, time per tenant, the ratio to the baseline, and where the CPU went (CLI,
// stores, PostgreSQL, MariaDB, NATS, this process) with the connections each scenario opened.
// Writes bench/results/<stamp>-tenant-ops.{json,md} and latest-tenant-ops.md, then stops what it
// started and drops every placement its catalog (polystore_bench_tenants_system) lists (schemas
// and their roles in the shared databases, tenant databases on both servers), then the catalog.
// `node bench/tenants.mjs --render bench/results/<stamp>-tenant-ops.json` re-renders the Markdown
// of a finished run (after a change to the report) without measuring again.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { rollupWindow, usageRollupJob } from '#polystore/jobs';
import { connectNats, Contracts, MessageClient } from '#polystore/messaging';
import { runAsTenant } from '#polystore/tenancy';
import { mapLimit } from './lib/concurrency.mjs';
import { APPS_ROOT, ROOT, envInt as int, envFlag as flag } from './lib/config.mjs';
import { request } from './lib/http.mjs';
import { startDeviceBroker } from './lib/device-broker.mjs';
import { dropBenchLeftovers } from './lib/leftovers.mjs';
import { machineInfo } from './lib/machine.mjs';
import { metricSum, scrape } from './lib/metrics.mjs';
import { adminQuery, clientConfig, databaseUrl } from './lib/pg.mjs';
import { killAll, startApp, stopAll } from './lib/processes.mjs';
import { fileStamp } from './lib/report.mjs';
import { isMysqlPlacement, placementOf, placementTable, queryEachPlacement } from './lib/tenant-data.mjs';
import { contextEnv, contextSigner } from './lib/context-key.mjs';

// The stores' migrations as the CLI under test applies them (the built apps, BENCH_APPS_ROOT or dist/).
const { STORE_SCHEMAS } = await import(pathToFileURL(join(APPS_ROOT, 'dist/apps/cli/src/migrate/migrate.job.js')).href);

const CLI_SCRIPT = 'dist/apps/cli/src/main.js';
const log = (message) => console.log(message);

const settings = {
  runId: randomBytes(3)
    .toString('hex')
    .replace(/^[0-9]/, 't'),
  tenants: int('BENCH_TENANTS_COUNT', 300),
  adminConcurrency: int('BENCH_ADMIN_CONCURRENCY', 6),
  readingsPerDevice: int('BENCH_TENANTS_READINGS', 20),
  /** Readings are spread over this many minutes before the push (inside the rollup's window). */
  readingsSpreadMin: 100,
  migrateConcurrency: 4,
  /** Also run the CLI with --concurrency 8. */
  migrateConcurrency8: flag('BENCH_TENANTS_C8', true),
  /** The job's own concurrency: the baseline uses the same. */
  rollupConcurrency: usageRollupJob.concurrency,
  /** Connection budget of the secure store's tenant pool: below its default (40), so that the
   * run stays under PostgreSQL's max_connections (100) with the edge store's 40 and the CLI's. */
  secureBudget: int('BENCH_TENANTS_SECURE_BUDGET', 20),
  pgServerUrl: process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432',
  mariadbUrl: process.env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  catalogDatabase: 'polystore_bench_tenants_system',
  baseDomain: 'bench.test',
  adminToken: `bench-admin-${randomBytes(18).toString('base64url')}`,
  masterKey: randomBytes(32).toString('base64'),
};
const prefix = `bencht${settings.runId}`;
const slugOf = (i) => `bencht-${settings.runId}-${String(i + 1).padStart(3, '0')}`;
/**
 * The PostgreSQL databases holding this run's tenant placements, as a pattern for
 * pg_stat_database (set once the placements are read from the catalog): the stores' shared
 * databases for schema placements (`polystore_secure`, `polystore_edge`: other users of those
 * databases are counted too), the tenants' own databases for database placements.
 */
let tenantDatabases = null;

const controller = new AbortController();
const { signal } = controller;
process.on('SIGINT', () => {
  if (signal.aborted) {
    killAll();
    process.exit(130);
  }
  log('\ninterrupted: cleaning up (Ctrl-C again to kill the apps at once)');
  controller.abort();
});
const checkAborted = () => {
  if (signal.aborted) throw new Error('interrupted');
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n, digits = 1) => (n === null || n === undefined ? null : Math.round(n * 10 ** digits) / 10 ** digits);
const sum = (list) => list.reduce((a, b) => a + b, 0);
const mean = (list) => (list.length ? sum(list) / list.length : null);
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Prints "label 50/300 (4.1/s, 12 s)" every 50 and at the end. */
function progress(label, total) {
  const started = Date.now();
  let done = 0;
  return () => {
    done++;
    if (done % 50 === 0 || done === total) {
      const s = (Date.now() - started) / 1000;
      log(`  ${label} ${done}/${total} (${(done / s).toFixed(1)}/s, ${s.toFixed(0)} s)`);
    }
  };
}

function mysqlConfig(serverUrl, database) {
  const url = new URL(serverUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    ...(database ? { database } : {}),
  };
}

/** One query on a short-lived MariaDB connection (no database selected). */
async function mariadbQuery(sql, params = []) {
  const connection = await mysql.createConnection(mysqlConfig(settings.mariadbUrl));
  try {
    const [rows] = await connection.query(sql, params);
    return rows;
  } finally {
    await connection.end();
  }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux): the bench's children (the CLI processes, once reaped), the
// started apps, PostgreSQL (live backends + what the postmaster reaped), MariaDB, NATS, this
// process, and the machine as a whole.

const TICK_MS = 10;

function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const f = text.slice(close + 2).split(' ');
    return {
      comm: text.slice(text.indexOf('(') + 1, close),
      ppid: Number(f[1]),
      ticks: Number(f[11]) + Number(f[12]),
      childTicks: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return null;
  }
}

function cpuSnapshot(apps) {
  if (process.platform !== 'linux') return null;
  const all = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat) all.set(Number(entry), stat);
  }
  const server = (comm) => {
    let ticks = 0;
    for (const s of all.values()) {
      if (s.comm !== comm) continue;
      ticks += s.ticks;
      const parent = all.get(s.ppid);
      if (!parent || parent.comm !== comm) ticks += s.childTicks; // reaped backends
    }
    return ticks;
  };
  const self = procStat('self');
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = values.map(Number);
  return {
    at: Date.now(),
    machineBusy: n.slice(0, 8).reduce((a, b) => a + b, 0) - n[3] - (n[4] ?? 0),
    machineTotal: n.slice(0, 8).reduce((a, b) => a + b, 0),
    apps: Object.fromEntries(Object.entries(apps).map(([name, pid]) => [name, all.get(pid)?.ticks ?? null])),
    postgres: server('postgres'),
    mariadb: server('mariadbd') || server('mysqld'),
    nats: server('nats-server'),
    bench: self.ticks,
    cli: self.childTicks,
  };
}

/** CPU ms per component between two snapshots; `other` is the rest of the machine. */
function cpuBetween(before, after) {
  if (!before || !after) return null;
  const ms = (a, b) => (a === null || b === null ? null : (a - b) * TICK_MS);
  const out = {};
  for (const name of Object.keys(after.apps)) out[name] = ms(after.apps[name], before.apps[name]);
  for (const name of ['postgres', 'mariadb', 'nats', 'bench', 'cli']) out[name] = ms(after[name], before[name]);
  const machine = (after.machineBusy - before.machineBusy) * TICK_MS;
  const capacity = (after.machineTotal - before.machineTotal) * TICK_MS;
  out.other = Math.max(0, machine - sum(Object.values(out).filter((v) => v !== null)));
  return { components: out, machineMs: machine, machineBusyShare: round(machine / capacity, 3) };
}

/**
 * Connections opened so far: to the PostgreSQL databases of this run's tenant placements (see
 * `tenantDatabases`) and to its catalog, and on MariaDB.
 */
async function connectionCounters() {
  const [row] = await adminQuery(
    settings.pgServerUrl,
    `SELECT coalesce(sum(sessions) FILTER (WHERE datname ~ $1), 0)::bigint AS tenants,
            coalesce(sum(xact_commit + xact_rollback) FILTER (WHERE datname ~ $1), 0)::bigint AS tenant_xacts,
            coalesce(sum(sessions) FILTER (WHERE datname = $2), 0)::bigint AS catalog,
            coalesce(sum(xact_commit + xact_rollback) FILTER (WHERE datname = $2), 0)::bigint AS catalog_xacts
       FROM pg_stat_database`,
    [tenantDatabases ?? '^$', settings.catalogDatabase],
  ).catch(() => [null]);
  const status = await mariadbQuery("SHOW GLOBAL STATUS WHERE Variable_name IN ('Connections', 'Questions')").catch(
    () => null,
  );
  const variable = (name) => {
    const found = status?.find((r) => r.Variable_name === name);
    return found ? Number(found.Value) : null;
  };
  return {
    pgTenant: row ? Number(row.tenants) : null,
    pgTenantXacts: row ? Number(row.tenant_xacts) : null,
    pgCatalog: row ? Number(row.catalog) : null,
    pgCatalogXacts: row ? Number(row.catalog_xacts) : null,
    // Both counters include the connection that reads them and its query: one each per reading.
    mariadb: variable('Connections'),
    mariadbQuestions: variable('Questions'),
  };
}

/**
 * Runs `work()` as one measured scenario: wall time, CPU per component, connections opened.
 * pg_stat_database is flushed by backends about once a second: waits 1.5 s before the second read.
 */
async function measure(apps, work) {
  const connectionsBefore = await connectionCounters();
  const cpuBefore = cpuSnapshot(apps);
  const started = performance.now();
  const value = await work();
  const wallMs = performance.now() - started;
  const cpu = cpuBetween(cpuBefore, cpuSnapshot(apps));
  await sleep(1_500);
  const connectionsAfter = await connectionCounters();
  const minus = (a, b) => (a === null || b === null ? null : a - b);
  const delta = (key) =>
    connectionsBefore[key] === null || connectionsAfter[key] === null
      ? null
      : connectionsAfter[key] - connectionsBefore[key] - (key.startsWith('mariadb') ? 1 : 0);
  return {
    wallMs,
    cpu,
    connectionsOpened: {
      pgTenantDatabases: delta('pgTenant'),
      pgCatalog: delta('pgCatalog'),
      mariadb: delta('mariadb'),
    },
    /**
     * PostgreSQL: transactions (each autocommitted statement is one) minus connections (a new
     * connection counts one transaction of its own); MariaDB: statements (`Questions`).
     */
    statements: {
      pgTenantDatabases: minus(delta('pgTenantXacts'), delta('pgTenant')),
      pgCatalog: minus(delta('pgCatalogXacts'), delta('pgCatalog')),
      mariadb: delta('mariadbQuestions'),
    },
    value,
  };
}

// ---------------------------------------------------------------------------------------------
// The CLI, as an operator runs it: a new process, its JSON report on stdout.

function cliEnv() {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    SYSTEM_DB_URL: databaseUrl(settings.pgServerUrl, settings.catalogDatabase),
    NATS_URL: settings.natsUrl,
    NATS_SUBJECT_PREFIX: prefix,
    MASTER_KEY: settings.masterKey,
    ...contextEnv,
    ADMIN_TOKEN: settings.adminToken,
    BASE_DOMAIN: settings.baseDomain,
    INSTANCE_ID: `${prefix}-cli`,
  };
}

/** Runs the CLI with `args` (`adminPort`: the gateway's); resolves with its exit code, parsed JSON report and stderr tail. */
function runCli(args, adminPort) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(APPS_ROOT, CLI_SCRIPT), ...args], {
      cwd: APPS_ROOT,
      env: { PATH: process.env.PATH ?? '', ...cliEnv(), GATEWAY_ADMIN_URL: `http://127.0.0.1:${adminPort}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = [];
    let stderr = '';
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
    });
    const onAbort = () => child.kill('SIGINT');
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', reject);
    child.once('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      const text = Buffer.concat(stdout).toString('utf8');
      let report = null;
      try {
        report = JSON.parse(text);
      } catch {
        // reported below
      }
      resolve({ code, report, stdoutHead: report ? undefined : text.slice(0, 2000), stderrTail: stderr.slice(-3000) });
    });
  });
}

/** Per-tenant durations of a CLI report: p50 / p95 / max, ms. */
function tenantDurations(report) {
  const list = (report?.outcomes ?? []).map((o) => o.durationMs).filter((n) => typeof n === 'number');
  return { p50: round(percentile(list, 50)), p95: round(percentile(list, 95)), max: round(Math.max(...list, 0)) };
}

/** The failures of a report, for the results (at most 10). */
function failuresOf(report) {
  return (report?.outcomes ?? [])
    .filter((o) => o.status === 'failed')
    .slice(0, 10)
    .map((o) => ({ tenant: o.tenant, error: o.error }));
}

// ---------------------------------------------------------------------------------------------
// Setup: tenants, devices, readings

/** Creates a tenant through the admin API (`adminPort`: the gateway's). */
async function createTenant(adminPort, slug) {
  const admin = { port: adminPort, host: settings.baseDomain, token: settings.adminToken };
  const created = await request({ ...admin, method: 'POST', path: '/admin/tenants', body: { slug, name: slug } });
  if (created.status === 201) return { slug, apiKey: created.body.apiKey };
  if (created.status !== 202)
    throw new Error(`POST /admin/tenants ${slug}: ${created.status} ${created.text.slice(0, 300)}`);
  // Still provisioning: wait until the tenant is active, then issue a key.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await sleep(500);
    const list = await request({ ...admin, path: '/admin/tenants' });
    const status = list.body?.items?.find((t) => t.slug === slug)?.status;
    if (status === 'active') {
      const key = await request({ ...admin, method: 'POST', path: `/admin/tenants/${slug}/api-keys` });
      if (key.status !== 201) throw new Error(`api key for ${slug}: ${key.status} ${key.text.slice(0, 300)}`);
      return { slug, apiKey: key.body.apiKey };
    }
  }
  throw new Error(`tenant ${slug} not active after 2 minutes`);
}

/**
 * Registers one device over HTTP (the registration saga); returns its id and token (its
 * credential, a NATS user JWT). The token is shown once: in the 201, or when the saga finished
 * in the background, in the saga's first read; failing both, the edge store's
 * `edge.devices.provision` (idempotent: a credential of the device's current generation).
 */
async function registerDevice(gatewayPort, tenant, messages) {
  const target = { port: gatewayPort, host: `${tenant.slug}.${settings.baseDomain}`, token: tenant.apiKey };
  const answer = await request({
    ...target,
    method: 'POST',
    path: '/v1/devices',
    body: { name: 'Bench meter', model: 'BM-1' },
    timeoutMs: 30_000,
  });
  if (answer.status === 201 && answer.body.token) return { id: answer.body.id, token: answer.body.token };
  if (answer.status !== 202 && answer.status !== 201)
    throw new Error(`POST /v1/devices (${tenant.slug}): ${answer.status} ${answer.text.slice(0, 300)}`);
  const credential = async (id) =>
    (await runAsTenant(tenant.slug, () => messages.request(Contracts.edge.devices.provision, { deviceId: id }))).token;
  if (answer.status === 201) return { id: answer.body.id, token: await credential(answer.body.id) };
  // Finished in the background: follow the saga.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const saga = await request({ ...target, path: `/v1/sagas/${answer.body.sagaId}` });
    if (saga.body?.state === 'SUCCEEDED')
      return { id: answer.body.id, token: saga.body.token ?? (await credential(answer.body.id)) };
    if (['FAILED', 'COMPENSATED', 'PARKED'].includes(saga.body?.state))
      throw new Error(`registration saga of ${tenant.slug}: ${saga.body.state} ${JSON.stringify(saga.body.error)}`);
    await sleep(300);
  }
  throw new Error(`registration saga of ${tenant.slug} not done after 60 s`);
}

/** `count` readings spread evenly over the last `readingsSpreadMin` minutes (the newest 1 min ago). */
function readingTimes(now, count) {
  const newest = now - 60_000;
  const span = (settings.readingsSpreadMin - 1) * 60_000;
  return Array.from({ length: count }, (_, i) => newest - (count > 1 ? Math.round((i * span) / (count - 1)) : 0));
}

/** POSTs the readings to the edge store's /ingest with the device's token (202 once the telemetry stream has them). */
async function ingest(edgePort, device, times) {
  const body = times.map((ts, i) => ({
    seq: i + 1,
    ts: new Date(ts).toISOString(),
    metrics: { kwh: Math.round(Math.random() * 1000) / 100 },
  }));
  for (let attempt = 0; attempt < 20; attempt++) {
    const answer = await request({
      port: edgePort,
      host: '127.0.0.1',
      method: 'POST',
      path: '/ingest',
      token: device.token,
      body,
    });
    if (answer.status === 202) return answer.body.accepted ?? body.length;
    if (answer.status !== 429 && answer.status !== 503)
      throw new Error(`POST /ingest: ${answer.status} ${answer.text.slice(0, 300)}`);
    await sleep(200);
  }
  throw new Error('POST /ingest: still refused after 20 attempts');
}

/** (device, hour) records a rollup at `now` must produce for readings at `times`. */
function expectedRecords(times, now) {
  const window = rollupWindow(new Date(now));
  const hours = new Set(
    times.filter((t) => t >= window.from.getTime() && t < window.to.getTime()).map((t) => Math.floor(t / 3_600_000)),
  );
  return hours.size;
}

// ---------------------------------------------------------------------------------------------
// Baselines

/**
 * Every placement of the active tenants, from the catalog (what the CLI resolves one by one):
 * `[{ slug, placements: [{ store, kind, server, database, schema? }] }]`.
 */
async function placements() {
  const client = new pg.Client(clientConfig(settings.pgServerUrl, settings.catalogDatabase, 'polystore-bench-tenants'));
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT t.slug, p.store, p.kind, p.server_url, p.database_name, p.schema_name,
              p.server_secret IS NOT NULL AS sealed
         FROM tenants t JOIN placements p ON p.tenant_id = t.id
        WHERE t.status = 'active'
        ORDER BY t.created_at, t.slug, p.store`,
    );
    if (rows.some((r) => r.sealed)) throw new Error('a placement has a sealed server password: not supported here');
    const byTenant = new Map();
    for (const r of rows) {
      if (!byTenant.has(r.slug)) byTenant.set(r.slug, []);
      byTenant.get(r.slug).push({
        store: r.store,
        kind: r.kind,
        server: r.server_url,
        database: r.database_name,
        ...(r.schema_name ? { schema: r.schema_name } : {}),
      });
    }
    return [...byTenant.entries()].map(([slug, list]) => ({ slug, placements: list }));
  } finally {
    await client.end();
  }
}

/** `^(db1|db2)$`: the PostgreSQL databases holding `tenants`' placements (for pg_stat_database). */
function postgresDatabasesPattern(tenants) {
  const names = new Set(
    tenants.flatMap((t) => t.placements.filter((p) => !isMysqlPlacement(p)).map((p) => p.database)),
  );
  return names.size ? `^(${[...names].join('|')})$` : '^$';
}

/** Placements per store and kind, e.g. `{ secure: { schema: 300 }, reliable: { database: 300 } }`. */
function placementKinds(tenants) {
  const kinds = {};
  for (const p of tenants.flatMap((t) => t.placements)) {
    kinds[p.store] ??= {};
    kinds[p.store][p.kind] = (kinds[p.store][p.kind] ?? 0) + 1;
  }
  return kinds;
}

/**
 * A store's migrations table and migration names on a server of `dialect` (`postgres`, `mysql`),
 * from the built schemas (what the CLI applies; the name TypeORM records: `name`, else the class).
 */
function expectedMigrations(store, dialect) {
  const schema = STORE_SCHEMAS[store];
  const s = typeof schema === 'function' ? schema(dialect) : schema;
  return { table: s.migrationsTableName ?? 'migrations', names: s.migrations.map((M) => new M().name ?? M.name) };
}

const dialectOf = (placement) => (isMysqlPlacement(placement) ? 'mysql' : 'postgres');

/** Migrations of `names` missing from `applied`. */
const missing = (names, applied) => {
  const have = new Set(applied);
  return names.filter((n) => !have.has(n)).length;
};

/** Schemas read in one statement by the migrate baseline (as many as the CLI reads in one). */
const SCHEMAS_PER_STATEMENT = 500;

/**
 * The least an "is every tenant placement current?" check does: the schema placements of a shared
 * database on one connection to it, one statement (a UNION ALL over up to 500 schemas) reading
 * the migrations each schema's table records, the schemas known from the catalog; every database
 * placement on a connection of its own, one read of its migrations table, close, `concurrency`
 * tenants at a time, each tenant's stores one after the other (like the CLI).
 */
async function migrateBaseline(tenants, concurrency) {
  const all = tenants.flatMap((t) => t.placements);
  const shared = new Map();
  for (const p of all.filter((p) => p.kind === 'schema')) {
    const key = `${p.store}:${p.database}`;
    if (!shared.has(key)) shared.set(key, { store: p.store, database: p.database, schemas: [] });
    shared.get(key).schemas.push(p.schema);
  }
  let pendingFound = 0;
  const errors = [];
  for (const { store, database, schemas } of shared.values()) {
    const { table, names } = expectedMigrations(store, 'postgres');
    const client = new pg.Client(clientConfig(settings.pgServerUrl, database, 'polystore-bench-floor'));
    try {
      await client.connect();
      try {
        for (let i = 0; i < schemas.length; i += SCHEMAS_PER_STATEMENT) {
          const part = schemas.slice(i, i + SCHEMAS_PER_STATEMENT);
          const sql = part
            .map((schema) => {
              const qualified = placementTable({ server: settings.pgServerUrl, kind: 'schema', schema }, table);
              return `SELECT '${schema}' AS schema, array_agg(name) AS names FROM ${qualified}`;
            })
            .join(' UNION ALL ');
          const { rows } = await client.query(sql);
          for (const row of rows) pendingFound += missing(names, row.names ?? []);
        }
      } finally {
        await client.end();
      }
    } catch (error) {
      errors.push(error);
    }
  }
  const check = async (placement) => {
    const { table, names } = expectedMigrations(placement.store, dialectOf(placement));
    let applied;
    if (isMysqlPlacement(placement)) {
      const connection = await mysql.createConnection(mysqlConfig(settings.mariadbUrl, placement.database));
      try {
        applied = (await connection.query(`SELECT name FROM \`${table}\``))[0].map((r) => r.name);
      } finally {
        await connection.end();
      }
    } else {
      const client = new pg.Client(clientConfig(settings.pgServerUrl, placement.database, 'polystore-bench-floor'));
      await client.connect();
      try {
        applied = (await client.query(`SELECT name FROM "${table}"`)).rows.map((r) => r.name);
      } finally {
        await client.end();
      }
    }
    return missing(names, applied);
  };
  const outcomes = await mapLimit(
    tenants,
    concurrency,
    async (tenant) => {
      let pending = 0;
      for (const placement of tenant.placements) if (placement.kind !== 'schema') pending += await check(placement);
      return pending;
    },
    { signal },
  );
  checkAborted();
  const failed = outcomes.filter((o) => !o.ok);
  const firstError = errors[0] ?? failed[0]?.error;
  return {
    tenants: tenants.length,
    placements: all.length,
    sharedDatabases: shared.size,
    failed: failed.length + errors.length,
    firstError: firstError?.message,
    pendingFound: pendingFound + sum(outcomes.filter((o) => o.ok).map((o) => o.value)),
  };
}

/**
 * The edge side of the rollup baseline: runs `query(client, readings)` for a tenant's edge
 * placement (`readings`: its table, qualified). A schema placement is queried on a pool of
 * connections to its shared database (opened on first use, `size` connections: the least a
 * reader of many schemas holds, as the edge store's shared pool), a database placement on a
 * connection of its own, closed after. `close()` ends the pools.
 */
function edgeReader(size) {
  const pools = new Map();
  return {
    async query(placement, work) {
      const readings = placementTable(placement, 'readings');
      if (placement.kind === 'schema') {
        if (!pools.has(placement.database))
          pools.set(
            placement.database,
            new pg.Pool({
              ...clientConfig(settings.pgServerUrl, placement.database, 'polystore-bench-floor'),
              max: size,
            }),
          );
        return work(pools.get(placement.database), readings);
      }
      const client = new pg.Client(clientConfig(settings.pgServerUrl, placement.database, 'polystore-bench-floor'));
      await client.connect();
      try {
        return await work(client, readings);
      } finally {
        await client.end();
      }
    },
    close: () => Promise.all([...pools.values()].map((pool) => pool.end())),
  };
}

/**
 * The rollup's raw SQL floor, per tenant: the device ids (reliable, a connection to the tenant's
 * database), the hourly counts of those devices over the job's window (edge, one aggregate, see
 * {@link edgeReader}), and one upsert of the counts (reliable), under `metric` so the job's own
 * records are left alone; `concurrency` tenants at a time.
 */
async function rollupBaseline(tenants, concurrency, metric) {
  const window = rollupWindow(new Date());
  const edgeReads = edgeReader(concurrency);
  let outcomes;
  try {
    outcomes = await mapLimit(
      tenants,
      concurrency,
      async (tenant) => {
        const reliable = placementOf(tenant.placements, 'reliable', tenant.slug);
        const edge = placementOf(tenant.placements, 'edge', tenant.slug);
        if (!isMysqlPlacement(reliable)) throw new Error(`${tenant.slug}: the baseline expects reliable on MariaDB`);
        const my = await mysql.createConnection(mysqlConfig(settings.mariadbUrl, reliable.database));
        try {
          const [devices] = await my.query('SELECT id FROM devices');
          if (devices.length === 0) return 0;
          const { rows } = await edgeReads.query(edge, (client, readings) =>
            client.query(
              `SELECT device_id, date_trunc('hour', ts, 'UTC') AS hour, count(*) AS readings
                 FROM ${readings}
                WHERE device_id = ANY($1::uuid[]) AND ts >= $2 AND ts < $3
                GROUP BY 1, 2 ORDER BY 1, 2`,
              [devices.map((d) => d.id), window.from, window.to],
            ),
          );
          if (rows.length === 0) return 0;
          const now = new Date();
          await my.query(
            `INSERT INTO usage_records (device_id, period_start, metric, amount, updated_at) VALUES ?
             ON DUPLICATE KEY UPDATE amount = VALUES(amount), updated_at = VALUES(updated_at)`,
            [rows.map((r) => [r.device_id, r.hour, metric, Number(r.readings), now])],
          );
          return rows.length;
        } finally {
          await my.end();
        }
      },
      { signal },
    );
  } finally {
    await edgeReads.close();
  }
  checkAborted();
  const failed = outcomes.filter((o) => !o.ok);
  return {
    tenants: tenants.length,
    failed: failed.length,
    firstError: failed[0]?.error?.message,
    records: sum(outcomes.filter((o) => o.ok).map((o) => o.value)),
  };
}

/** Usage records per tenant in its reliable placement (one connection per server or shared database). */
async function usageRecordsPerTenant(tenants, metric) {
  const reliable = tenants.map((t) => placementOf(t.placements, 'reliable', t.slug));
  const rows = await queryEachPlacement(settings, reliable, (p) => ({
    sql: `SELECT count(*) AS n, coalesce(sum(amount), 0) AS readings FROM ${placementTable(p, 'usage_records')} WHERE metric = ${isMysqlPlacement(p) ? '?' : '$1'}`,
    params: [metric],
  }));
  return new Map(tenants.map((t, i) => [t.slug, { records: Number(rows[i].n), readings: Number(rows[i].readings) }]));
}

// ---------------------------------------------------------------------------------------------
// Report

/** Whether the run's tenants had schema placements (runs before placement kinds: none). */
const hasSchemas = (run) => Object.values(run.placementKinds ?? {}).some((kinds) => kinds.schema);

/** The run's placements in words. */
function layoutOf(run) {
  const n = run.settings.tenants;
  if (!run.placementKinds)
    return `each with a database in every store (secure and edge on PostgreSQL, reliable on MariaDB): ${n * 3} databases`;
  const where = {
    schema: 'a schema in the store’s shared database',
    database: 'a database',
    dedicated: 'a dedicated server',
  };
  const parts = Object.entries(run.placementKinds).map(
    ([store, kinds]) =>
      `${store}: ${Object.entries(kinds)
        .map(([kind, count]) => `${count === n ? '' : `${count} × `}${where[kind] ?? kind}`)
        .join(', ')}`,
  );
  return `each with a placement in every store (${parts.join('; ')}; secure and edge on PostgreSQL, reliable on MariaDB)`;
}

function renderMarkdown(run) {
  const f = (n, d = 0) =>
    n === null || n === undefined || !Number.isFinite(n)
      ? '–'
      : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = run.scenarios.map(
    (s) =>
      `| ${s.label} | ${s.tenants} | ${f(s.wallMs / 1000, 1)} | ${f(s.wallMs / s.tenants, 1)} | ${s.ratio === undefined ? '–' : `${f(s.ratio, 2)}×`} | ${s.runRatio === undefined ? '–' : `${f(s.runRatio, 2)}×`} | ${s.notes} |`,
  );
  const cpuRow = (s) => {
    const c = s.cpu?.components ?? {};
    const per = (ms) => f(ms === null || ms === undefined ? null : ms / s.tenants, 1);
    const stores = ['gateway', 'secure', 'reliable', 'edge'].map((k) => c[k] ?? 0);
    return `| ${s.label} | ${per(c.cli)} | ${per(sum(stores))} | ${per(c.postgres)} | ${per(c.mariadb)} | ${per(c.nats)} | ${per(c.bench)} | ${per(c.other)} | ${f((s.cpu?.machineBusyShare ?? NaN) * 100)}% | ${f(s.connectionsOpened.pgTenantDatabases)} / ${f(s.connectionsOpened.pgCatalog)} | ${f(s.connectionsOpened.mariadb)} | ${per(s.statements.pgTenantDatabases)} / ${per(s.statements.pgCatalog)} | ${per(s.statements.mariadb)} |`;
  };
  const m = run.machine;
  const uncommitted = m.git.uncommittedInCode;
  return `# Operations over every tenant: no-op migrate and usage rollup vs their floors

Run ${run.startedAt} on ${m.cpuCount} × ${m.cpuModel}, ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.nodeVersion}, ${m.postgresVersion.split(',')[0]} (max_connections ${m.postgresMaxConnections}), MariaDB ${m.mariadbVersion}, load average at start ${m.loadAverageAtStart.join(' / ')}.
Code: \`${m.git.commit ?? 'unknown'}\`${uncommitted.length ? ` plus uncommitted changes in ${uncommitted.length} file(s) of apps/, libs/ (listed in the JSON)` : ''}.
${run.settings.tenants} tenants, ${layoutOf(run)}. One device per tenant, ${run.settings.readingsPerDevice} readings per device over the last ${run.settings.readingsSpreadMin} minutes. Stores and gateway at their defaults except the secure store's connection budget (${run.settings.secureBudget}) and \`JOBS=''\` on the gateway (no scheduled run during the measurements). Every CLI run is a new \`node ${CLI_SCRIPT}\` process: its wall time includes starting Node and Nest and connecting to the catalog and NATS (*CLI startup* below).

| scenario | tenants | wall s | per tenant ms | vs baseline | run only vs baseline | notes |
|---|---:|---:|---:|---:|---:|---|
${rows.join('\n')}

*vs baseline*: wall time of the scenario (the CLI process, start to exit) / wall time of its baseline in this run (the migrate baseline: the mean of its two runs); *run only*: the run's own \`durationMs\` as the CLI reports it (process start, Nest bootstrap, catalog and NATS connections left out) / the same baseline. ${run.summary.migrateTarget}

## Where the time goes

${run.summary.whereTheTimeGoes.join('\n\n')}

CPU per tenant, in ms, by process (from \`/proc\`; *PostgreSQL* and *MariaDB* are the whole servers, other users' queries included; *bench* is this process, which runs the baselines; *other* is everything else on the machine), with the connections each scenario opened (PostgreSQL: \`pg_stat_database.sessions\` of the databases holding this run's PostgreSQL placements${hasSchemas(run) ? ` (\`${run.tenantDatabases}\`: for schema placements the stores' shared databases, other users of them included)` : ''} / of its catalog; MariaDB: the server's \`Connections\` counter, other users included) and the statements run per tenant (PostgreSQL: transactions, \`xact_commit + xact_rollback\`, each autocommitted statement being one, minus the one each new connection counts; the catalog's include the apps' background queries, e.g. the gateway's saga sweeper; MariaDB: the server's \`Questions\`, other users included):

| scenario | CLI | stores + gateway | PostgreSQL | MariaDB | NATS | bench | other | machine busy | PG connections tenant DBs / catalog | MariaDB connections | PG statements per tenant, tenant DBs / catalog | MariaDB statements per tenant |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${run.scenarios.map(cpuRow).join('\n')}

Absolute numbers on a shared ${m.cpuCount}-core machine are noisy (other work competes for the cores: see *other*): compare the ratios within one run. Raw numbers: \`${run.files.json}\`.
`;
}

/** The target check and the explanation, from a run's numbers (also used by `--render`). */
function summarize(run) {
  const byId = Object.fromEntries(run.scenarios.map((s) => [s.id, s]));
  const migrates = run.scenarios.filter((s) => s.kind === 'migrate');
  const fastest = migrates.reduce((a, b) => (b.wallMs < a.wallMs ? b : a), migrates[0]);
  const capacity = fastest?.cpu ? fastest.cpu.machineMs / fastest.cpu.machineBusyShare : null;
  const otherShare = capacity ? fastest.cpu.components.other / capacity : null;
  const seconds = fastest ? fastest.wallMs / 1000 : null;
  // "Well under 30 s": two thirds of it at most.
  const verdict =
    seconds === null
      ? 'not measured'
      : seconds <= 20
        ? 'met'
        : seconds < 30
          ? 'under 30 s but **not well under**'
          : '**not met**';
  const v = run.rollupVerification;
  return {
    migrateTarget:
      `Target (the issue): a no-op migrate over 300 tenants well under 30 s: ${verdict} in this run (fastest CLI run ${seconds?.toFixed(1)} s wall, process start included${run.settings.tenants === 300 ? '' : `; ${run.settings.tenants} tenants here`}${otherShare === null ? '' : `; during it the machine was ${Math.round(fastest.cpu.machineBusyShare * 100)}% busy, ${Math.round(otherShare * 100)}% of its CPU taken by work outside this run`}).` +
      ` Rollup check: ${v?.ok ? `every tenant's ledger holds its ${v.expectedRecordsPerTenant} hourly records, ${v.recordsInLedger} in all, as the job reported` : `**MISMATCH** ${JSON.stringify(v)}`}.`,
    whereTheTimeGoes: explain(run, byId),
  };
}

/** The "where the time goes" paragraphs, written from this run's numbers. */
function explain(run, byId) {
  const paragraphs = [];
  const f = (n, d = 0) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));
  const perTenant = (s, k) => (s?.cpu ? s.cpu.components[k] / s.tenants : null);
  const ratio = (a, b) => (a === null || a === undefined || b === null || !b ? null : a / b);
  const pgPerSession = (s) => ratio(s.cpu?.components.postgres ?? null, s.connectionsOpened.pgTenantDatabases);
  const cpuOf = (s, keys) => (s?.cpu ? sum(keys.map((k) => s.cpu.components[k] ?? 0)) / s.tenants : null);
  const pgStatementsPerSession = (s) => ratio(s.statements.pgTenantDatabases, s.connectionsOpened.pgTenantDatabases);
  const cli = byId['migrate-c4-2'] ?? byId['migrate-c4-1'];
  const floor = byId['migrate-floor-2'] ?? byId['migrate-floor-1'];
  const cpuKeys = (self) => [self, 'postgres', 'mariadb', 'nats', 'gateway', 'secure', 'reliable', 'edge'];
  const concurrency8 = (c8) =>
    c8
      ? ` With \`--concurrency 8\` the run took ${f(c8.wallMs / 1000, 1)} s against ${f(cli.wallMs / 1000, 1)} s at 4, the machine ${f((c8.cpu?.machineBusyShare ?? NaN) * 100)}% busy${c8.wallMs >= 0.9 * cli.wallMs ? `: on ${run.machine.cpuCount} cores the work is CPU, not waiting, so more tenants at once do not go faster` : ''}.`
      : '';
  if (cli && floor && hasSchemas(run)) {
    const schemas = sum(Object.values(run.placementKinds).map((k) => k.schema ?? 0));
    const own = sum(Object.values(run.placementKinds).map((k) => (k.database ?? 0) + (k.dedicated ?? 0)));
    const perConnection = (s, key) => ratio(s.statements[key], s.connectionsOpened[key]);
    paragraphs.push(
      `**No-op migrate.** The ${schemas} schema placements are read per shared database on both sides: the baseline opened ${f(floor.connectionsOpened.pgTenantDatabases)} connection(s) to PostgreSQL's shared databases and ran ${f(floor.statements.pgTenantDatabases)} statement(s) on them (one UNION ALL over the schemas' migrations tables per database), the CLI ${f(cli.connectionsOpened.pgTenantDatabases)} and ${f(cli.statements.pgTenantDatabases)} (its fleet read: the schemas holding a migrations table, then one UNION ALL over up to 500 of them; both counts include what other users ran on those databases meanwhile). ` +
        `The ${own} database placements cost a new connection each on both sides: the baseline opened ${f(floor.connectionsOpened.mariadb)} MariaDB connections (${f(perConnection(floor, 'mariadb'), 1)} statements each), the CLI ${f(cli.connectionsOpened.mariadb)} (${f(perConnection(cli, 'mariadb'), 1)} each: a current database is recognised on a plain driver connection with one read of its migrations table; only one with something pending gets a TypeORM DataSource, the migration lock and the migrations). ` +
        `CPU per tenant: MariaDB ${f(perTenant(cli, 'mariadb'), 1)} ms under the CLI against ${f(perTenant(floor, 'mariadb'), 1)} ms in the baseline, PostgreSQL ${f(perTenant(cli, 'postgres'), 1)} against ${f(perTenant(floor, 'postgres'), 1)} ms, the CLI process itself ${f(perTenant(cli, 'cli'), 1)} ms (its start-up, the catalog: ${f(ratio(cli.statements.pgCatalog, cli.tenants), 1)} statements per tenant of placement look-ups and the run's checkpoint, the job machinery) against the baseline's process ${f(perTenant(floor, 'bench'), 1)} ms; in all ${f(cpuOf(cli, cpuKeys('cli')), 1)} ms against ${f(cpuOf(floor, cpuKeys('bench')), 1)} ms. ` +
        `Per tenant inside the run (the CLI's own durations, ${run.settings.migrateConcurrency} at once): p50 ${f(cli.tenantMs?.p50)} ms, p95 ${f(cli.tenantMs?.p95)} ms. Starting the CLI (Node, Nest, catalog and NATS connections) costs ${f(cli.startupMs / 1000, 1)} s of the wall time.` +
        concurrency8(byId['migrate-c8']),
    );
  } else if (cli && floor) {
    const c8 = byId['migrate-c8'];
    paragraphs.push(
      `**No-op migrate.** Both sides open one connection per placement (${f(floor.connectionsOpened.pgTenantDatabases)} to PostgreSQL tenant databases, ${f(floor.connectionsOpened.mariadb)} to MariaDB), and for both the price of a new connection dominates: in the baseline PostgreSQL spends ${f(pgPerSession(floor), 1)} ms of CPU per new connection (a backend forked, authenticated, the catalog caches of a database it has not seen filled) to answer ${f(pgStatementsPerSession(floor), 1)} statement on it; ${f(perTenant(floor, 'postgres'), 1)} ms per tenant in all, ${f(floor.wallMs / floor.tenants, 1)} ms of wall time per tenant with ${run.settings.migrateConcurrency} at once. ` +
        `The CLI runs ${f(pgStatementsPerSession(cli), 1)} statements per connection where the baseline runs one (a current database is recognised on a plain driver connection with one read of its migrations table; only a database with something pending gets a TypeORM DataSource, the migration lock and the migrations) plus ${f(ratio(cli.statements.pgCatalog, cli.tenants), 1)} per tenant on the catalog (placement look-ups, the run's checkpoint), so PostgreSQL spends ${f(pgPerSession(cli), 1)} ms per tenant-database connection, ${f(perTenant(cli, 'postgres'), 1)} ms per tenant in all, and the CLI process itself ${f(perTenant(cli, 'cli'), 1)} ms per tenant (three driver connections opened and closed per tenant, the job machinery, the checkpoint; its start-up included). ` +
        `CPU per tenant on this run's side: ${f(cpuOf(cli, ['cli', 'postgres', 'mariadb', 'nats', 'gateway', 'secure', 'reliable', 'edge']), 1)} ms against the baseline's ${f(cpuOf(floor, ['bench', 'postgres', 'mariadb', 'nats', 'gateway', 'secure', 'reliable', 'edge']), 1)} ms: with every core busy, wall time follows CPU. ` +
        `Per tenant inside the run (the CLI's own durations, ${run.settings.migrateConcurrency} at once): p50 ${f(cli.tenantMs?.p50)} ms, p95 ${f(cli.tenantMs?.p95)} ms. Starting the CLI (Node, Nest, catalog and NATS connections) costs ${f(cli.startupMs / 1000, 1)} s of the wall time.` +
        (c8
          ? ` With \`--concurrency 8\` the run took ${f(c8.wallMs / 1000, 1)} s against ${f(cli.wallMs / 1000, 1)} s at 4, the machine ${f((c8.cpu?.machineBusyShare ?? NaN) * 100)}% busy: on ${run.machine.cpuCount} cores the work is CPU (PostgreSQL backends and the CLI), not waiting, so more tenants at once do not go faster.`
          : ''),
    );
  }
  const job = byId['rollup-1'];
  const rerun = byId['rollup-2'];
  const rfloor = byId['rollup-floor'];
  if (job && rfloor) {
    const stores = (s) => (s.cpu ? (s.cpu.components.reliable + s.cpu.components.edge) / s.tenants : null);
    paragraphs.push(
      `**Usage rollup.** Per tenant the job sends three NATS requests (device list and upsert to the reliable store, hourly counts to the edge store), and ${hasSchemas(run) ? "the reliable store opens the tenant's DataSource (a database each on MariaDB) unless it still holds it (pool 2, budget 40 connections per store, idle TTL 60 s) while the edge store reads the tenant's schema on its shared pool (the baseline: a pool of as many connections as tenants at once)" : "each store opens the tenant's DataSource unless it still holds it (pool 2, budget 40 connections per store, idle TTL 60 s)"}: the run opened ${f(job.connectionsOpened.pgTenantDatabases)} PostgreSQL and ${f(job.connectionsOpened.mariadb)} MariaDB connections for ${job.tenants} tenants, the baseline ${f(rfloor.connectionsOpened.pgTenantDatabases)} and ${f(rfloor.connectionsOpened.mariadb)}. ` +
        `The difference is the work around the same queries: ${f(ratio(job.statements.mariadb, job.tenants), 1)} MariaDB statements per tenant against the baseline's ${f(ratio(rfloor.statements.mariadb, rfloor.tenants), 1)} (DataSource start-up; per upsert one transaction: the idempotency key row claimed, the records upserted, the key's result stored; on a rerun the claim fails and the stored result is read instead), ${f(ratio(job.statements.pgTenantDatabases, job.tenants), 1)} PostgreSQL statements per tenant against ${f(ratio(rfloor.statements.pgTenantDatabases, rfloor.tenants), 1)}, and the stores' own CPU, ${f(stores(job), 1)} ms per tenant (NATS messages, validation, TypeORM), on top of PostgreSQL ${f(perTenant(job, 'postgres'), 1)} ms (baseline ${f(perTenant(rfloor, 'postgres'), 1)}), MariaDB ${f(perTenant(job, 'mariadb'), 1)} ms (baseline ${f(perTenant(rfloor, 'mariadb'), 1)}) and the CLI ${f(perTenant(job, 'cli'), 1)} ms (the baseline's process: ${f(perTenant(rfloor, 'bench'), 1)} ms). In all, ${f(cpuOf(job, ['cli', 'postgres', 'mariadb', 'nats', 'gateway', 'secure', 'reliable', 'edge']), 1)} ms of CPU per tenant against the baseline's ${f(cpuOf(rfloor, ['bench', 'postgres', 'mariadb', 'nats', 'gateway', 'secure', 'reliable', 'edge']), 1)} ms. Per tenant inside the run (${run.settings.rollupConcurrency} at once): p50 ${f(job.tenantMs?.p50)} ms, p95 ${f(job.tenantMs?.p95)} ms.` +
        (rerun
          ? ` The rerun finds every batch unchanged (same idempotency key: a replay, nothing written): ${f(rerun.reportedDurationMs / 1000, 1)} s against ${f(job.reportedDurationMs / 1000, 1)} s for the first run, ${f(cpuOf(rerun, ['cli', 'postgres', 'mariadb', 'nats', 'gateway', 'secure', 'reliable', 'edge']), 1)} ms of CPU per tenant against ${f(cpuOf(job, ['cli', 'postgres', 'mariadb', 'nats', 'gateway', 'secure', 'reliable', 'edge']), 1)} ms, while other work took ${f(perTenant(rerun, 'other'), 1)} ms per tenant against ${f(perTenant(job, 'other'), 1)} ms.`
          : ''),
    );
  }
  return paragraphs;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'polystore-bench-tenants-'));
  let broker;
  let nc;
  let failed = false;
  const startedAt = new Date();
  try {
    log(
      `tenant-ops: run ${settings.runId}, ${settings.tenants} tenants, admin concurrency ${settings.adminConcurrency}`,
    );
    // Leftovers of an earlier run that could not clean up (the catalog name is fixed).
    const leftovers = await dropBenchLeftovers(settings);
    if (leftovers)
      log(
        `  dropped what an earlier run left: its catalog (${leftovers.listed} placement(s) listed), ${leftovers.schemas} schema(s), ${leftovers.databases} database(s)`,
      );

    broker = await startDeviceBroker(dir);
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info', // the `ready` line is an info record; logs go to files
      SYSTEM_DB_URL: databaseUrl(settings.pgServerUrl, settings.catalogDatabase),
      SECURE_SERVER_URL: settings.pgServerUrl,
      RELIABLE_SERVER_URL: settings.mariadbUrl,
      EDGE_SERVER_URL: settings.pgServerUrl,
      NATS_URL: settings.natsUrl,
      NATS_SUBJECT_PREFIX: prefix,
      MASTER_KEY: settings.masterKey,
      ...contextEnv,
    };
    const apps = {};
    for (const store of ['secure', 'reliable', 'edge']) {
      apps[store] = await startApp({
        name: `${store}-store`,
        script: `dist/apps/${store}-store/src/main.js`,
        logDir: dir,
        env: {
          ...env,
          [`${store.toUpperCase()}_HTTP_PORT`]: '0',
          INSTANCE_ID: `${prefix}-${store}`,
          ...(store === 'secure' ? { SECURE_DB_CONNECTION_BUDGET: String(settings.secureBudget) } : {}),
          ...(store === 'edge'
            ? { DEVICE_BROKER_URL: broker.natsUrl, DEVICE_BROKER_KEY: broker.key, DEVICE_RATE_LIMIT_PER_S: '0' }
            : {}),
        },
      });
    }
    const gateway = await startApp({
      name: 'gateway',
      script: 'dist/apps/gateway/src/main.js',
      logDir: dir,
      env: {
        ...env,
        ADMIN_TOKEN: settings.adminToken,
        BASE_DOMAIN: settings.baseDomain,
        GATEWAY_PORT: '0',
        ADMIN_PORT: '0',
        INSTANCE_ID: `${prefix}-gateway`,
        JOBS: '',
        TENANT_DELETION_GRACE_MS: '0',
      },
    });
    const pids = {
      gateway: gateway.pid,
      secure: apps.secure.pid,
      reliable: apps.reliable.pid,
      edge: apps.edge.pid,
    };

    // --- setup ----------------------------------------------------------------------------
    log(`creating ${settings.tenants} tenants (${settings.adminConcurrency} at once) ...`);
    let setupStarted = Date.now();
    const tickTenant = progress('created', settings.tenants);
    const created = await mapLimit(
      Array.from({ length: settings.tenants }, (_, i) => slugOf(i)),
      settings.adminConcurrency,
      async (slug) => {
        const tenant = await createTenant(gateway.adminPort, slug);
        tickTenant();
        return tenant;
      },
      { signal },
    );
    checkAborted();
    const createFailures = created.filter((o) => !o.ok);
    if (createFailures.length)
      throw new Error(`${createFailures.length} tenants not created; first: ${createFailures[0].error.message}`);
    const tenants = created.map((o) => o.value);
    const tenantCreationS = (Date.now() - setupStarted) / 1000;

    log(`registering one device per tenant (POST /v1/devices, ${settings.adminConcurrency} at once) ...`);
    setupStarted = Date.now();
    const tickDevice = progress('registered', tenants.length);
    nc = await connectNats({ url: settings.natsUrl, name: 'bench-tenants' });
    const messages = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 10_000, signer: contextSigner });
    const registered = await mapLimit(
      tenants,
      settings.adminConcurrency,
      async (tenant) => {
        tenant.device = await registerDevice(gateway.port, tenant, messages);
        tickDevice();
      },
      { signal },
    );
    checkAborted();
    const registerFailures = registered.filter((o) => !o.ok);
    if (registerFailures.length)
      throw new Error(`${registerFailures.length} devices not registered; first: ${registerFailures[0].error.message}`);
    const registrationS = (Date.now() - setupStarted) / 1000;

    log(`ingesting ${settings.readingsPerDevice} readings per device over HTTP ...`);
    setupStarted = Date.now();
    const pushedAt = Date.now();
    const times = readingTimes(pushedAt, settings.readingsPerDevice);
    const ingested = await mapLimit(
      tenants,
      settings.adminConcurrency,
      (t) => ingest(apps.edge.port, t.device, times),
      {
        signal,
      },
    );
    checkAborted();
    const ingestFailures = ingested.filter((o) => !o.ok);
    if (ingestFailures.length)
      throw new Error(`${ingestFailures.length} ingests failed; first: ${ingestFailures[0].error.message}`);
    const readingsIngested = sum(ingested.map((o) => o.value));
    // A 202 means the telemetry stream has the readings; the rollup must find them committed.
    const committed = async () =>
      metricSum(await scrape(apps.edge.port), 'polystore_ingest_readings_total', ['path="stream"']) ?? 0;
    const commitDeadline = Date.now() + 120_000;
    while ((await committed()) < readingsIngested) {
      if (Date.now() > commitDeadline)
        throw new Error(`the edge store committed ${await committed()} of ${readingsIngested} readings in 2 minutes`);
      await sleep(200);
    }
    const ingestS = (Date.now() - setupStarted) / 1000;
    log(
      `  setup: tenants ${tenantCreationS.toFixed(0)} s, devices ${registrationS.toFixed(0)} s, readings ${ingestS.toFixed(1)} s (${readingsIngested} readings)`,
    );

    const catalog = await placements();
    if (catalog.length !== tenants.length)
      throw new Error(`the catalog lists ${catalog.length} active tenants, expected ${tenants.length}`);
    tenantDatabases = postgresDatabasesPattern(catalog);
    const kinds = placementKinds(catalog);
    log(`  placements: ${JSON.stringify(kinds)}; PostgreSQL databases ${tenantDatabases}`);
    const scenarios = [];
    const byId = {};
    const add = (scenario) => {
      scenarios.push(scenario);
      byId[scenario.id] = scenario;
      log(
        `  ${scenario.label}: ${(scenario.wallMs / 1000).toFixed(1)} s, ${(scenario.wallMs / scenario.tenants).toFixed(1)} ms per tenant — ${scenario.notes}`,
      );
    };
    // Idle a moment: let the stores' tenant DataSources of the setup age out of the picture.
    await sleep(2_000);

    // --- no-op migrate ----------------------------------------------------------------------
    const migrateCli = async (id, concurrency, label) => {
      log(`▶ ${label}`);
      const args = ['migrate', '--store', 'all', '--tenants', 'all', '--concurrency', String(concurrency), '--json'];
      const m = await measure(pids, () => runCli(args, gateway.adminPort));
      checkAborted();
      const { code, report } = m.value;
      if (!report)
        throw new Error(`migrate printed no JSON report (exit ${code}):\n${m.value.stdoutHead}\n${m.value.stderrTail}`);
      const problems = [];
      if (code !== 0) problems.push(`exit code ${code}`);
      if (report.failed) problems.push(`${report.failed} FAILED`);
      if (report.migrationsApplied) problems.push(`${report.migrationsApplied} migrations APPLIED`);
      if (report.total !== tenants.length) problems.push(`total ${report.total} ≠ ${tenants.length}`);
      add({
        id,
        kind: 'migrate',
        label,
        tenants: tenants.length,
        wallMs: m.wallMs,
        reportedDurationMs: report.durationMs,
        startupMs: m.wallMs - report.durationMs,
        tenantMs: tenantDurations(report),
        exitCode: code,
        report: {
          total: report.total,
          ok: report.ok,
          failed: report.failed,
          skipped: report.skipped,
          state: report.state,
          runId: report.runId,
          migrationsApplied: report.migrationsApplied,
          migrationsPending: report.migrationsPending,
          durationMs: report.durationMs,
        },
        failures: failuresOf(report),
        stderrTail: problems.length ? m.value.stderrTail : undefined,
        cpu: m.cpu,
        connectionsOpened: m.connectionsOpened,
        statements: m.statements,
        notes: `ok ${report.ok}, failed ${report.failed}, applied ${report.migrationsApplied}; run ${(report.durationMs / 1000).toFixed(1)} s + CLI startup ${((m.wallMs - report.durationMs) / 1000).toFixed(1)} s${problems.length ? `; **${problems.join(', ')}**` : ''}`,
        problems,
      });
    };
    const migrateFloor = async (id, label) => {
      log(`▶ ${label}`);
      const m = await measure(pids, () => migrateBaseline(catalog, settings.migrateConcurrency));
      const v = m.value;
      add({
        id,
        kind: 'migrate-floor',
        label,
        tenants: tenants.length,
        wallMs: m.wallMs,
        value: v,
        cpu: m.cpu,
        connectionsOpened: m.connectionsOpened,
        statements: m.statements,
        notes: `${v.placements} placements read (the schemas of ${v.sharedDatabases} shared database(s) on one connection each), ${v.pendingFound} pending found, ${v.failed} failed${v.firstError ? ` (${v.firstError})` : ''}`,
        problems: v.failed || v.pendingFound ? ['baseline found problems'] : [],
      });
    };
    await migrateCli('migrate-c4-1', 4, 'migrate, concurrency 4 (1st)');
    await migrateFloor('migrate-floor-1', 'migrate baseline: read each migrations table (1st)');
    await migrateCli('migrate-c4-2', 4, 'migrate, concurrency 4 (2nd)');
    await migrateFloor('migrate-floor-2', 'migrate baseline (2nd)');
    if (settings.migrateConcurrency8) await migrateCli('migrate-c8', 8, 'migrate, concurrency 8');
    const migrateFloorMs = mean([byId['migrate-floor-1'].wallMs, byId['migrate-floor-2'].wallMs]);
    for (const s of scenarios)
      if (s.kind === 'migrate') {
        s.ratio = s.wallMs / migrateFloorMs;
        s.runRatio = s.reportedDurationMs / migrateFloorMs;
      }

    // --- usage rollup -----------------------------------------------------------------------
    const expectedPerTenant = expectedRecords(times, Date.now());
    const rollupCli = async (id, label) => {
      log(`▶ ${label}`);
      const m = await measure(pids, () => runCli(['jobs', 'run', 'usage-rollup', '--json'], gateway.adminPort));
      checkAborted();
      const { code, report } = m.value;
      if (!report)
        throw new Error(
          `jobs run usage-rollup printed no JSON report (exit ${code}):\n${m.value.stdoutHead}\n${m.value.stderrTail}`,
        );
      const records = sum(report.outcomes.map((o) => o.result?.records ?? 0));
      const devices = sum(report.outcomes.map((o) => o.result?.devices ?? 0));
      const problems = [];
      if (code !== 0) problems.push(`exit code ${code}`);
      if (report.failed) problems.push(`${report.failed} FAILED`);
      if (report.total !== tenants.length) problems.push(`total ${report.total} ≠ ${tenants.length}`);
      add({
        id,
        kind: 'rollup',
        label,
        tenants: tenants.length,
        wallMs: m.wallMs,
        reportedDurationMs: report.durationMs,
        startupMs: m.wallMs - report.durationMs,
        tenantMs: tenantDurations(report),
        exitCode: code,
        records,
        devices,
        report: {
          total: report.total,
          ok: report.ok,
          failed: report.failed,
          skipped: report.skipped,
          state: report.state,
          runId: report.runId,
          durationMs: report.durationMs,
        },
        failures: failuresOf(report),
        stderrTail: problems.length ? m.value.stderrTail : undefined,
        cpu: m.cpu,
        connectionsOpened: m.connectionsOpened,
        statements: m.statements,
        notes: `ok ${report.ok}, failed ${report.failed}, ${records} records upserted (${devices} devices); run ${(report.durationMs / 1000).toFixed(1)} s + CLI startup ${((m.wallMs - report.durationMs) / 1000).toFixed(1)} s${problems.length ? `; **${problems.join(', ')}**` : ''}`,
        problems,
      });
    };
    await rollupCli('rollup-1', 'usage rollup (1st run: inserts)');
    // Verify the ledger: every tenant has its device's hourly counts, and they add up.
    const ledger = await usageRecordsPerTenant(catalog, 'readings');
    const verification = {
      expectedRecordsPerTenant: expectedPerTenant,
      tenantsWithRecords: [...ledger.values()].filter((v) => v.records > 0).length,
      tenantsWithExpectedRecords: [...ledger.values()].filter((v) => v.records === expectedPerTenant).length,
      tenantsWithAllReadings: [...ledger.values()].filter((v) => v.readings === settings.readingsPerDevice).length,
      recordsInLedger: sum([...ledger.values()].map((v) => v.records)),
      recordsReportedByJob: byId['rollup-1'].records,
    };
    verification.ok =
      verification.tenantsWithRecords === tenants.length &&
      verification.recordsInLedger === verification.recordsReportedByJob &&
      verification.tenantsWithExpectedRecords === tenants.length;
    log(`  ledger check: ${JSON.stringify(verification)}`);
    if (!verification.ok) byId['rollup-1'].problems.push('ledger check failed');

    log('▶ usage rollup baseline');
    const floorMeasured = await measure(pids, () =>
      rollupBaseline(catalog, settings.rollupConcurrency, 'bench-floor-readings'),
    );
    const rv = floorMeasured.value;
    add({
      id: 'rollup-floor',
      kind: 'rollup-floor',
      label: 'rollup baseline: raw aggregate + INSERT … ON DUPLICATE KEY UPDATE',
      tenants: tenants.length,
      wallMs: floorMeasured.wallMs,
      value: rv,
      cpu: floorMeasured.cpu,
      connectionsOpened: floorMeasured.connectionsOpened,
      statements: floorMeasured.statements,
      notes: `${rv.records} records upserted, ${rv.failed} failed${rv.firstError ? ` (${rv.firstError})` : ''}; ${settings.rollupConcurrency} tenants at once, like the job`,
      problems: rv.failed ? ['baseline failed'] : [],
    });
    await rollupCli('rollup-2', 'usage rollup (rerun: nothing changed)');
    for (const s of scenarios)
      if (s.kind === 'rollup') {
        s.ratio = s.wallMs / byId['rollup-floor'].wallMs;
        s.runRatio = s.reportedDurationMs / byId['rollup-floor'].wallMs;
      }

    // --- results ----------------------------------------------------------------------------
    const machine = await machineInfo(settings.pgServerUrl);
    machine.mariadbVersion = (await mariadbQuery('SELECT version() AS v'))[0].v;
    const run = {
      startedAt: startedAt.toISOString(),
      settings: {
        tenants: settings.tenants,
        adminConcurrency: settings.adminConcurrency,
        readingsPerDevice: settings.readingsPerDevice,
        readingsSpreadMin: settings.readingsSpreadMin,
        migrateConcurrency: settings.migrateConcurrency,
        rollupConcurrency: settings.rollupConcurrency,
        secureBudget: settings.secureBudget,
      },
      setup: { tenantCreationS, registrationS, ingestS, readingsIngested },
      placementKinds: kinds,
      tenantDatabases,
      machine,
      scenarios,
      rollupVerification: verification,
      problems: scenarios.flatMap((s) => s.problems.map((p) => `${s.label}: ${p}`)),
    };
    run.summary = summarize(run);
    const out = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results');
    mkdirSync(out, { recursive: true });
    const stamp = fileStamp(startedAt);
    run.files = { json: `${stamp}-tenant-ops.json`, markdown: `${stamp}-tenant-ops.md` };
    writeFileSync(join(out, run.files.json), `${JSON.stringify(run, null, 2)}\n`);
    const markdown = renderMarkdown(run);
    writeFileSync(join(out, run.files.markdown), markdown);
    writeFileSync(join(out, 'latest-tenant-ops.md'), markdown);
    log(`\n${markdown}`);
    if (run.problems.length) {
      log(`problems:\n  ${run.problems.join('\n  ')}`);
      process.exitCode = 1;
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    log('cleaning up ...');
    await nc?.drain().catch(() => undefined);
    await stopAll().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    // The tenants are not deleted through the admin API (slower for hundreds): every placement
    // the catalog lists is dropped directly (schemas and their roles, databases), then the catalog.
    const dropped = await dropBenchLeftovers(settings).catch((error) => {
      log(`  could not drop every placement: ${error.message}`);
      return null;
    });
    if (dropped)
      log(
        `  dropped ${dropped.schemas} schema(s) and ${dropped.databases} database(s) of ${dropped.listed} placement(s) the catalog listed, and the catalog`,
      );
    if (failed) log(`  app logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** `--render <json>`: rewrites the Markdown of a finished run (and latest, if it is the newest). */
function render(path) {
  if (!path?.endsWith('-tenant-ops.json')) {
    console.error('usage: node bench/tenants.mjs --render bench/results/<stamp>-tenant-ops.json');
    process.exit(2);
  }
  const run = JSON.parse(readFileSync(path, 'utf8'));
  run.summary = summarize(run);
  writeFileSync(path, `${JSON.stringify(run, null, 2)}\n`);
  const dir = dirname(path);
  const markdown = renderMarkdown(run);
  writeFileSync(join(dir, basename(path).replace(/\.json$/, '.md')), markdown);
  const newest = readdirSync(dir)
    .filter((f) => f.endsWith('-tenant-ops.json'))
    .sort()
    .at(-1);
  if (newest === basename(path)) writeFileSync(join(dir, 'latest-tenant-ops.md'), markdown);
  log(`re-rendered ${path}${newest === basename(path) ? ' and latest-tenant-ops.md' : ''}`);
}

if (process.argv[2] === '--render') render(process.argv[3]);
else await main();
