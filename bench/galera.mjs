#!/usr/bin/env node
// The reliable store on a 3-node MariaDB Galera cluster vs one MariaDB server, side by side in
// one run (issue 20), then the failover pause.
//
// Starts the cluster if it is not whole (`scripts/galera.sh start`, idempotent), then two
// identical stacks at once (secure, reliable and edge stores and a gateway, bench/lib/stack.mjs;
// no device broker: `DEVICE_BROKER=off` on both), each with its own catalog and NATS prefix:
// *single*, whose reliable store uses the machine's MariaDB (BENCH_MARIADB_URL, default :3306),
// and *cluster*, whose reliable store uses the multi-host URL of `scripts/galera.sh url`. Each
// gets BENCH_GALERA_TENANTS tenants (default 10). Then BENCH_GALERA_ROUNDS rounds (default 3),
// the two stacks alternating within each round and which goes first alternating between rounds,
// BENCH_WARMUP_S (2) + BENCH_DURATION_S (8) seconds each, BENCH_CONNECTIONS clients (default 50),
// a tenant at random per operation, of two workloads:
//   registrations: POST /v1/devices through the gateway with a fresh Idempotency-Key (the
//                  device-registration saga; 201 with the token);
//   ledger:        `reliable.usage.upsert` over NATS with a fresh idempotency key,
//                  BENCH_GALERA_USAGE_RECORDS records (default 10) each: one transaction.
// Throughput, p50/p99 and CPU per operation of each stack's processes and database server(s)
// per round; the ratios (cluster / single, target >= 0.6) from the medians.
//
// Failover: BENCH_GALERA_FAILOVER_CLIENTS clients (default 10) register devices on the cluster
// stack, each retrying its Idempotency-Key until a 201 (as a client should); after
// BENCH_GALERA_FAILOVER_BEFORE_S (5) s the node the store works on (the most client connections
// in information_schema.PROCESSLIST, 'system user' excluded) is SIGKILLed, the load goes on for
// BENCH_GALERA_FAILOVER_AFTER_S (15) s. Reports p99 and max latency of the registrations in
// flight at the kill or started within BENCH_GALERA_KILL_WINDOW_S (10) s after it, the time to
// the first registration acknowledged that was sent after the kill, the longest time without an
// acknowledgement, and checks each key is one device and every acknowledged one is stored. Then
// restarts the node (`scripts/galera.sh start-node N`, until Synced) and checks it holds every
// acknowledged registration.
//
// Writes bench/results/<stamp>-reliable-galera.{json,md} and latest-reliable-galera.md. At the
// end (also on a failure) the tenants are deleted through the admin API, what the run's catalogs
// still list is dropped directly, and `scripts/galera.sh start` leaves the cluster whole.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { connectNats, Contracts, MessageClient } from '#polystore/messaging';
import { runAsTenant } from '#polystore/tenancy';
import { mapLimit } from './lib/concurrency.mjs';
import { APPS_ROOT, readSettings, ROOT, envInt as int } from './lib/config.mjs';
import { contextSigner } from './lib/context-key.mjs';
import { cpuBetween, cpuSnapshot } from './lib/cpu.mjs';
import { expectStatus, request } from './lib/http.mjs';
import { dropBenchLeftovers, dropRunLeftovers, leftoversMessage } from './lib/leftovers.mjs';
import { machineInfo } from './lib/machine.mjs';
import { stopAll } from './lib/processes.mjs';
import { fileStamp } from './lib/report.mjs';
import { placementOf, placementTable, queryRowsEachPlacement } from './lib/tenant-data.mjs';
import { startEdgeStore, startGateway, startReliableStore, startSecureStore } from './lib/stack.mjs';
import { listPlacements } from './lib/tenants.mjs';

const run = promisify(execFile);
const log = (message) => console.log(message);

const GALERA = join(ROOT, 'scripts/galera.sh');
const GALERA_DIR = process.env.GALERA_DIR ?? join(ROOT, '.polystore/galera');
const NODES = [1, 2, 3];
const PORT_BASE = Number(process.env.GALERA_PORT_BASE ?? 3306);
const TARGET_RATIO = 0.6;

const knobs = {
  tenants: int('BENCH_GALERA_TENANTS', 10),
  rounds: int('BENCH_GALERA_ROUNDS', 3),
  connections: int('BENCH_CONNECTIONS', 50),
  durationS: int('BENCH_DURATION_S', 8),
  warmupS: int('BENCH_WARMUP_S', 2, 0),
  usageRecords: int('BENCH_GALERA_USAGE_RECORDS', 10),
  failoverClients: int('BENCH_GALERA_FAILOVER_CLIENTS', 10),
  failoverBeforeS: int('BENCH_GALERA_FAILOVER_BEFORE_S', 5),
  failoverAfterS: int('BENCH_GALERA_FAILOVER_AFTER_S', 15),
  killWindowS: int('BENCH_GALERA_KILL_WINDOW_S', 10),
};
const singleUrl = process.env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306';
const resultsDir = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results');

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const median = (values) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const nodeUrl = (node) => `mysql://root@127.0.0.1:${PORT_BASE + node}`;

// --- the cluster --------------------------------------------------------------------------------

async function galera(...args) {
  const { stdout, stderr } = await run(GALERA, args, { cwd: ROOT, timeout: 240_000 });
  return `${stdout}${stderr}`.trim();
}

const pidOf = (node) => Number(readFileSync(join(GALERA_DIR, `node${node}`, 'mariadbd.pid'), 'utf8').trim());

function alive(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** One statement on one node, on a connection of its own. */
async function nodeQuery(node, sql) {
  const connection = await mysql.createConnection({
    host: '127.0.0.1',
    port: PORT_BASE + node,
    user: 'root',
    connectTimeout: 2_000,
  });
  try {
    return (await connection.query(sql))[0];
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** The node holding the most client connections (the one the stores work on), and the counts. */
async function busiestNode() {
  const counts = {};
  for (const node of NODES) {
    const rows = await nodeQuery(
      node,
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER <> 'system user' AND ID <> CONNECTION_ID()",
    ).catch(() => [{ n: -1 }]);
    counts[node] = Number(rows[0].n);
  }
  const node = NODES.reduce((best, n) => (counts[n] > counts[best] ? n : best), NODES[0]);
  return { node, counts };
}

/** A node that answers (for the bench's own reads and cleanup), preferring `avoid`'s others. */
async function liveNode(avoid) {
  for (const node of [...NODES.filter((n) => n !== avoid), avoid]) {
    if (node === undefined) continue;
    if (
      await nodeQuery(node, 'SELECT 1').then(
        () => true,
        () => false,
      )
    )
      return node;
  }
  throw new Error('no Galera node answers');
}

/** pids of `mariadbd` processes that are not Galera nodes (the single server). */
function singleServerPids() {
  const galeraPids = new Set(NODES.map((n) => (alive(pidOf(n)) ? pidOf(n) : -1)));
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || galeraPids.has(Number(entry))) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'mariadbd') pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

// --- the two stacks -----------------------------------------------------------------------------

/** Settings of one stack (bench/lib/stack.mjs): its catalog, NATS prefix and reliable server. */
function stackSettings(id, reliableUrl, checkUrl) {
  const base = readSettings();
  return {
    ...base,
    id,
    runId: `${base.runId}${id[0]}`,
    catalogDatabase: `polystore_bench_galera_${id}_system`,
    adminConcurrency: 4,
    /** RELIABLE_SERVER_URL of the stack's apps (multi-host for the cluster). */
    mariadbUrl: reliableUrl,
    /** One host of it, for the bench's own reads and cleanup (helpers that parse a URL). */
    checkUrl,
  };
}
/** The settings the bench's helpers read MariaDB with (a single host). */
const helperSettings = (s) => ({ ...s, mariadbUrl: s.checkUrl });

async function startStack(s, logDir) {
  const earlier = await dropBenchLeftovers(helperSettings(s));
  if (earlier)
    log(
      `  ${s.id}: dropped an earlier run's catalog (${earlier.listed} placement(s) listed, ${earlier.databases} database(s))`,
    );
  s.apps = {};
  s.apps.secure = await startSecureStore(s, logDir);
  s.apps.reliable = await startReliableStore(s, logDir);
  s.apps.edge = await startEdgeStore(s, logDir);
  s.apps.gateway = await startGateway(s, logDir, ['secure', 'reliable', 'edge']);
  s.tenants = [];
  s.seen = [];
  const slugs = Array.from(
    { length: knobs.tenants },
    (_, i) => `bg${s.id[0]}-${s.runId}-${String(i + 1).padStart(3, '0')}`,
  );
  const outcomes = await mapLimit(slugs, s.adminConcurrency, async (slug) => {
    const body = await expectStatus(201, {
      port: s.apps.gateway.adminPort,
      host: s.baseDomain,
      token: s.adminToken,
      method: 'POST',
      path: '/admin/tenants',
      body: { slug, name: slug },
      timeoutMs: 120_000,
    });
    s.tenants.push({ slug, apiKey: body.apiKey });
  });
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length) throw new Error(`${s.id}: ${failed.length} tenants not created: ${failed[0].error.message}`);
  const placements = await listPlacements({ adminPort: s.apps.gateway.adminPort, settings: s });
  for (const t of s.tenants) {
    s.seen.push(...(placements.get(t.slug) ?? []));
    t.reliable = placementOf(placements.get(t.slug), 'reliable', t.slug);
  }
  log(`  ${s.id}: ${s.tenants.length} tenants, reliable placements on ${s.tenants[0].reliable.server}`);
}

async function stopStack(s) {
  if (s.apps?.gateway?.isRunning && s.tenants?.length) {
    await mapLimit(s.tenants, 4, (t) =>
      request({
        port: s.apps.gateway.adminPort,
        host: s.baseDomain,
        token: s.adminToken,
        method: 'DELETE',
        path: `/admin/tenants/${t.slug}`,
        timeoutMs: 120_000,
      }).catch(() => undefined),
    );
  }
}

// --- the workloads ------------------------------------------------------------------------------

function registrationOnce(s, tenant, key, name) {
  return request({
    port: s.apps.gateway.port,
    host: `${tenant.slug}.${s.baseDomain}`,
    token: tenant.apiKey,
    method: 'POST',
    path: '/v1/devices',
    body: { name, model: 'BG-1' },
    extraHeaders: { 'idempotency-key': key },
    timeoutMs: 30_000,
  });
}

const workloads = {
  registrations: async (s, tenant) => {
    const response = await registrationOnce(s, tenant, randomUUID(), 'Bench meter');
    if (response.status !== 201)
      throw Object.assign(new Error(`HTTP ${response.status}`), { code: response.body?.code ?? response.status });
  },
  ledger: async (s, tenant) => {
    const periodStart = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
    const deviceId = randomUUID();
    const records = Array.from({ length: knobs.usageRecords }, (_, i) => ({
      deviceId,
      periodStart,
      metric: `bench.m${i}`,
      amount: i + 1,
    }));
    await runAsTenant(
      tenant.slug,
      () => s.client.request(Contracts.reliable.usage.upsert, { idempotencyKey: randomUUID(), records }),
      10_000,
    );
  },
};

/** `connections` loops for `seconds`, each running `op(stack, random tenant)`: rate, p50/p99, errors. */
async function drive(s, op, seconds) {
  const deadline = performance.now() + seconds * 1000;
  const latencies = [];
  const errorCodes = {};
  let errors = 0;
  await Promise.all(
    Array.from({ length: knobs.connections }, async () => {
      while (performance.now() < deadline) {
        const tenant = s.tenants[Math.floor(Math.random() * s.tenants.length)];
        const started = performance.now();
        try {
          await op(s, tenant);
          latencies.push(performance.now() - started);
        } catch (error) {
          errors++;
          const code = String(error?.code ?? 'ERROR');
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    completed: latencies.length,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    errorCodes,
  };
}

/** CPU ms per operation: the stack's four processes and its database server(s). */
function cpuPids(s) {
  const pids = Object.fromEntries(Object.entries(s.apps).map(([name, app]) => [name, app.pid]));
  if (s.id === 'cluster') for (const n of NODES) pids[`node${n}`] = pidOf(n);
  else singleServerPids().forEach((pid, i) => (pids[`mariadb${i}`] = pid));
  return pids;
}

function cpuSummary(cpu) {
  const c = cpu.components ?? {};
  const ms = (name) => c[name]?.msPerRequest ?? 0;
  const db = Object.keys(c)
    .filter((k) => /^(node\d|mariadb\d)$/.test(k))
    .reduce((sum, k) => sum + ms(k), 0);
  return {
    reliableStore: ms('reliable'),
    apps: ms('gateway') + ms('secure') + ms('reliable') + ms('edge'),
    database: db,
    postgres: c.postgres?.msPerRequest ?? null,
    /** The idle stack, other users of the machine, the kernel: what the machine did besides. */
    other: c.other?.msPerRequest ?? null,
    machineBusy: cpu.machineBusyShare ?? null,
  };
}

// --- the failover -------------------------------------------------------------------------------

/**
 * Clients registering on the cluster stack, each key retried (every 150 ms) until a 201, while
 * the busiest node is SIGKILLed; then the node is restarted.
 */
async function failover(s) {
  const clock = () => performance.now();
  const runTag = `gf-${s.runId}`;
  const registrations = []; // { key, name, tenant, first, ackAt, attempts: [{ start, end, status }] }
  let stop = false;
  let stopAt = Number.POSITIVE_INFINITY;
  let n = 0;
  const client = async () => {
    while (!stop) {
      const tenant = s.tenants[Math.floor(Math.random() * s.tenants.length)];
      const name = `${runTag}-${n++}`;
      const r = { key: randomUUID(), name, tenant: tenant.slug, first: clock(), ackAt: null, attempts: [] };
      registrations.push(r);
      const giveUpAt = () => (stop ? stopAt + 60_000 : Number.POSITIVE_INFINITY);
      for (;;) {
        const start = clock();
        // 0: no answer (the gateway gave up on the connection or the request timed out).
        const status = await registrationOnce(s, tenant, r.key, name).then(
          (response) => response.status,
          () => 0,
        );
        r.attempts.push({ start, end: clock(), status });
        if (status === 201) {
          r.ackAt = clock();
          break;
        }
        if (status >= 400 && status < 500 && status !== 429) break;
        if (clock() > giveUpAt()) break;
        await sleep(150);
      }
    }
  };
  const startedAt = clock();
  const clients = Array.from({ length: knobs.failoverClients }, client);
  await sleep(knobs.failoverBeforeS * 1000);
  const { node: victim, counts } = await busiestNode();
  const pid = pidOf(victim);
  log(`  client connections per node ${JSON.stringify(counts)}: SIGKILL node ${victim} (pid ${pid})`);
  const killAt = clock();
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(20);
  const deadAfterMs = clock() - killAt;
  await sleep(knobs.failoverAfterS * 1000);
  stop = true;
  stopAt = clock();
  await Promise.all(clients);
  const endedAt = clock();

  // Latencies (first send to the 201) by when the registration was sent.
  const windowEnd = killAt + knobs.killWindowS * 1000;
  const latencyOf = (r) => (r.ackAt === null ? null : r.ackAt - r.first);
  const summary = (list) => {
    const acked = list.filter((r) => r.ackAt !== null).map(latencyOf);
    acked.sort((a, b) => a - b);
    return {
      registrations: list.length,
      acknowledged: acked.length,
      p50: percentile(acked, 50),
      p99: percentile(acked, 99),
      max: acked.at(-1) ?? null,
    };
  };
  const before = registrations.filter((r) => r.first < killAt && (r.ackAt ?? Infinity) < killAt);
  const during = registrations.filter(
    (r) => (r.first < killAt && (r.ackAt ?? Infinity) >= killAt) || (r.first >= killAt && r.first < windowEnd),
  );
  const after = registrations.filter((r) => r.first >= windowEnd);
  const attempts = registrations.flatMap((r) => r.attempts);
  const statusesAfterKill = {};
  for (const a of attempts.filter((a) => a.end >= killAt && a.start < windowEnd))
    statusesAfterKill[a.status] = (statusesAfterKill[a.status] ?? 0) + 1;
  const firstNewAck = registrations
    .filter((r) => r.first >= killAt && r.ackAt !== null)
    .reduce((min, r) => Math.min(min, r.ackAt - killAt), Infinity);
  const firstAttemptAck = attempts
    .filter((a) => a.start >= killAt && a.status === 201)
    .reduce((min, a) => Math.min(min, a.end - killAt), Infinity);
  const acks = registrations
    .map((r) => r.ackAt)
    .filter((t) => t !== null)
    .sort((a, b) => a - b);
  let longestGap = 0;
  for (let i = 1; i < acks.length; i++)
    if (acks[i] >= killAt && acks[i - 1] <= windowEnd)
      longestGap = Math.max(longestGap, acks[i] - Math.max(acks[i - 1], killAt));

  // Each key one device, every acknowledged one stored: read from a surviving node.
  const checkNode = await liveNode(victim);
  const stored = await storedByName(s, nodeUrl(checkNode), runTag);
  const acked = registrations.filter((r) => r.ackAt !== null);
  const check = {
    node: checkNode,
    keys: registrations.length,
    acknowledged: acked.length,
    gaveUp: registrations.length - acked.length,
    rows: [...stored.values()].reduce((a, b) => a + b, 0),
    duplicates: [...stored.values()].filter((count) => count > 1).length,
    acknowledgedMissing: acked.filter((r) => !stored.has(r.name)).length,
  };

  log(`  restarting node ${victim} (scripts/galera.sh start-node ${victim}) ...`);
  const restartStarted = clock();
  const restartOutput = await galera('start-node', String(victim));
  const rejoinS = (clock() - restartStarted) / 1000;
  const onRejoined = await storedByName(s, nodeUrl(victim), runTag);
  const rejoinedMissing = acked.filter((r) => !onRejoined.has(r.name)).length;

  return {
    clients: knobs.failoverClients,
    victim,
    connectionsPerNode: counts,
    deadAfterMs,
    beforeS: (killAt - startedAt) / 1000,
    afterS: (stopAt - killAt) / 1000,
    drainS: (endedAt - stopAt) / 1000,
    killWindowS: knobs.killWindowS,
    before: summary(before),
    during: summary(during),
    after: summary(after),
    statusesAfterKill,
    firstNewAckMs: Number.isFinite(firstNewAck) ? firstNewAck : null,
    firstAttemptAckMs: Number.isFinite(firstAttemptAck) ? firstAttemptAck : null,
    longestGapMs: longestGap,
    check,
    rejoin: { seconds: rejoinS, state: restartOutput.split('\n').at(-1), missingOnRejoined: rejoinedMissing },
  };
}

/** name -> rows of the stack's devices named `<tag>-*`, read on the MariaDB of `url`. */
async function storedByName(s, url, tag) {
  const placements = s.tenants.map((t) => t.reliable);
  const rows = await queryRowsEachPlacement({ ...s, mariadbUrl: url }, placements, (p) => ({
    sql: `SELECT name, COUNT(*) AS n FROM ${placementTable(p, 'devices')} WHERE name LIKE ? GROUP BY name`,
    params: [`${tag}-%`],
  }));
  const byName = new Map();
  for (const row of rows.flat()) byName.set(row.name, (byName.get(row.name) ?? 0) + Number(row.n));
  return byName;
}

// --- the report ---------------------------------------------------------------------------------

function renderMarkdown(r) {
  const f = (n, digits = 0) =>
    n === null || n === undefined || !Number.isFinite(n)
      ? '–'
      : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const label = {
    registrations: 'registrations (HTTP, saga)',
    ledger: `ledger writes (NATS, ${r.settings.usageRecords} records)`,
  };
  const rows = r.rounds.map(
    (x) =>
      `| ${x.round} | ${label[x.workload]} | ${x.stack} | ${f(x.result.perSecond, 1)} | ${f(x.result.p50)} | ${f(x.result.p99)} | ${x.result.errors}${x.result.errors ? ` ${JSON.stringify(x.result.errorCodes)}` : ''} | ${f(x.cpu.reliableStore, 2)} | ${f(x.cpu.database, 2)} | ${f(x.cpu.apps + x.cpu.database + (x.cpu.postgres ?? 0), 2)} | ${f(x.cpu.other, 2)} | ${f((x.cpu.machineBusy ?? NaN) * 100)} |`,
  );
  const summaryRows = Object.entries(r.summary).map(
    ([w, s]) =>
      `| ${label[w]} | ${f(s.single.perSecond, 1)} | ${f(s.cluster.perSecond, 1)} | **${f(s.ratio, 2)}×** (rounds ${s.roundRatios.map((x) => f(x, 2)).join(', ')}) | ${f(s.single.p50)} / ${f(s.single.p99)} | ${f(s.cluster.p50)} / ${f(s.cluster.p99)} | ${s.ratio >= TARGET_RATIO ? 'met' : 'NOT met'} |`,
  );
  const fo = r.failover;
  const ph = (name, x) =>
    `| ${name} | ${x.registrations} | ${x.acknowledged} | ${f(x.p50)} | ${f(x.p99)} | ${f(x.max)} |`;
  return `# The reliable store on a 3-node Galera cluster vs one MariaDB server

Run ${r.startedAt} on ${r.machine.cpus}, ${r.machine.memory}, Node ${r.machine.node}; ${r.versions.single} on ${r.settings.singleUrl.replace(/\/\/.*@/, '//')} (single) and ${r.versions.cluster} (galera-4 ${r.versions.provider}) on three nodes at 127.0.0.1:3307-3309 (cluster), each node \`innodb_flush_log_at_trx_commit = 1\`; both stacks (secure, reliable and edge stores, gateway; no device broker) running side by side on this one machine with PostgreSQL and NATS, only the measured one loaded. ${r.settings.tenants} tenants per stack, a tenant at random per operation, ${r.settings.connections} clients, ${r.settings.rounds} rounds of ${r.settings.warmupS} s warm-up + ${r.settings.durationS} s measured per stack and workload, the stacks alternating (which goes first alternates between rounds).

| workload | single /s | cluster /s | cluster / single (median of rounds) | single p50 / p99 ms | cluster p50 / p99 ms | target ≥ ${TARGET_RATIO}× |
|---|---:|---:|---|---:|---:|---|
${summaryRows.join('\n')}

Medians over the rounds. Each round:

| round | workload | stack | ops/s | p50 ms | p99 ms | errors | reliable store CPU ms/op | MariaDB CPU ms/op (the stack's server or 3 nodes) | all CPU ms/op | other CPU ms/op | machine busy % |
|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

*All CPU* is the stack's four processes, its MariaDB server(s) and PostgreSQL (which both stacks share: the catalog, saga log and secure/edge stores); *other* is what the machine did besides (the idle stack, other users, the kernel); *machine busy* counts everything, the bench included. An error of a registration is any answer but 201 (a 202: the saga was still running at the request's deadline). Run took ${f(r.elapsedS)} s in all.

## Failover pause

${fo.clients} clients registering devices on the cluster stack (\`POST /v1/devices\`, each key retried every 150 ms until a 201). After ${f(fo.beforeS, 1)} s node ${fo.victim} (client connections per node: ${JSON.stringify(fo.connectionsPerNode)}) was SIGKILLed (gone ${f(fo.deadAfterMs)} ms later); the load went on for ${f(fo.afterS, 1)} s. Latency is first send to the 201, retries included.

| registrations sent | sent | acknowledged | p50 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|---:|
${ph('before the kill (acknowledged before it)', fo.before)}
${ph(`**kill window**: in flight at the kill or sent within ${fo.killWindowS} s after it`, fo.during)}
${ph(`after the window`, fo.after)}

- **First registration sent after the kill and acknowledged: ${f(fo.firstNewAckMs)} ms** after the kill (first 201 to any request sent after the kill, a retry included: ${f(fo.firstAttemptAckMs)} ms). Longest time without any acknowledgement: ${f(fo.longestGapMs)} ms.
- Answers to requests during the kill window (status: count; 0 = no answer): ${JSON.stringify(fo.statusesAfterKill)}.
- Read on node ${fo.check.node}: ${fo.check.keys} keys, ${fo.check.acknowledged} acknowledged (${fo.check.gaveUp} gave up), ${fo.check.rows} devices; keys with more than one device: ${fo.check.duplicates}; acknowledged but missing: ${fo.check.acknowledgedMissing}.
- Node ${fo.victim} restarted with \`scripts/galera.sh start-node ${fo.victim}\`: Synced after ${f(fo.rejoin.seconds, 1)} s (${fo.rejoin.state}); acknowledged registrations missing on it: ${fo.rejoin.missingOnRejoined}.
`;
}

// --- main ---------------------------------------------------------------------------------------

async function main() {
  const logDir = mkdtempSync(join(tmpdir(), 'polystore-bench-galera-'));
  const runStarted = performance.now();
  let nc;
  let failed = false;
  let stacks = [];
  try {
    log(
      `reliable-galera: ${knobs.tenants} tenants per stack, ${knobs.connections} clients, ${knobs.rounds} rounds of ${knobs.durationS} s`,
    );
    log(await galera('start'));
    const clusterUrl = await galera('url');
    const single = stackSettings('single', singleUrl, singleUrl);
    const cluster = stackSettings('cluster', clusterUrl, nodeUrl(await liveNode()));
    stacks = [single, cluster];
    log('starting both stacks and their tenants ...');
    // Both at once; each finishes (or fails) before cleanup, so no app is left starting.
    const started = await Promise.allSettled(stacks.map((s) => startStack(s, logDir)));
    const notStarted = started.find((outcome) => outcome.status === 'rejected');
    if (notStarted) throw notStarted.reason;
    nc = await connectNats({ url: single.natsUrl, name: 'bench-galera' });
    for (const s of stacks)
      s.client = new MessageClient(nc, {
        subjectPrefix: `bench${s.runId}`,
        defaultTimeoutMs: 10_000,
        signer: contextSigner,
      });

    const rounds = [];
    for (let round = 1; round <= knobs.rounds; round++) {
      const order = round % 2 === 1 ? [single, cluster] : [cluster, single];
      for (const workload of Object.keys(workloads)) {
        for (const s of order) {
          await drive(s, workloads[workload], knobs.warmupS);
          const pids = cpuPids(s);
          const before = cpuSnapshot(pids);
          const result = await drive(s, workloads[workload], knobs.durationS);
          const cpu = cpuSummary(cpuBetween(before, cpuSnapshot(pids), result.completed + result.errors));
          rounds.push({ round, workload, stack: s.id, result, cpu });
          log(
            `  round ${round} ${workload} ${s.id}: ${result.perSecond.toFixed(1)}/s, p50 ${result.p50?.toFixed(0)} ms, p99 ${result.p99?.toFixed(0)} ms, errors ${result.errors}`,
          );
        }
      }
    }
    const summary = {};
    for (const workload of Object.keys(workloads)) {
      const of = (stack) => rounds.filter((x) => x.workload === workload && x.stack === stack).map((x) => x.result);
      const pick = (list) => ({
        perSecond: median(list.map((x) => x.perSecond)),
        p50: median(list.map((x) => x.p50)),
        p99: median(list.map((x) => x.p99)),
      });
      const roundRatios = of('cluster').map((c, i) => c.perSecond / of('single')[i].perSecond);
      summary[workload] = {
        single: pick(of('single')),
        cluster: pick(of('cluster')),
        roundRatios,
        ratio: median(roundRatios),
      };
      log(`  ${workload}: cluster / single = ${summary[workload].ratio.toFixed(2)}x`);
    }

    log(`failover: ${knobs.failoverClients} clients on the cluster stack ...`);
    const fo = await failover(cluster);
    log(
      `  kill window p99 ${fo.during.p99?.toFixed(0)} ms, max ${fo.during.max?.toFixed(0)} ms; first new ack ${fo.firstNewAckMs?.toFixed(0)} ms after the kill; node ${fo.victim} Synced again after ${fo.rejoin.seconds.toFixed(1)} s`,
    );

    const version = async (url) => {
      const u = new URL(url);
      const c = await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: 'root' });
      try {
        const [[row]] = await c.query('SELECT VERSION() AS v');
        const [provider] = await c.query("SHOW GLOBAL STATUS LIKE 'wsrep_provider_version'");
        return { version: `MariaDB ${row.v.replace(/-.*/, '')}`, provider: provider[0]?.Value ?? null };
      } finally {
        await c.end();
      }
    };
    // The wsrep provider reports 4.x; the package (galera-4) carries the release number.
    const galeraPackage = await run('dpkg-query', ['-W', '-f', '${Version}', 'galera-4']).then(
      ({ stdout }) => stdout.replace(/-.*/, ''),
      () => null,
    );
    const singleV = await version(singleUrl);
    const clusterV = await version(cluster.checkUrl);
    const machine = await machineInfo(single.pgServerUrl, APPS_ROOT);
    const result = {
      startedAt: new Date().toISOString(),
      settings: { ...knobs, singleUrl, clusterUrl, targetRatio: TARGET_RATIO },
      machine: {
        ...machine,
        cpus: `${machine.cpuCount} × ${machine.cpuModel}`,
        memory: `${machine.totalMemoryGiB} GiB`,
        node: machine.nodeVersion,
      },
      versions: {
        single: singleV.version,
        cluster: clusterV.version,
        provider: galeraPackage ?? `wsrep ${clusterV.provider?.replace(/\(.*$/, '')}`,
      },
      summary,
      rounds,
      failover: fo,
      /** Start to results, cleanup (tenant deletion, about 20 s) not included. */
      elapsedS: (performance.now() - runStarted) / 1000,
    };
    mkdirSync(resultsDir, { recursive: true });
    const stamp = fileStamp(new Date());
    writeFileSync(join(resultsDir, `${stamp}-reliable-galera.json`), `${JSON.stringify(result, null, 2)}\n`);
    const markdown = renderMarkdown(result);
    writeFileSync(join(resultsDir, `${stamp}-reliable-galera.md`), markdown);
    writeFileSync(join(resultsDir, 'latest-reliable-galera.md'), markdown);
    log(`\n${markdown}`);
    log(`results: ${join(resultsDir, `${stamp}-reliable-galera.{json,md}`)}`);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await nc?.drain().catch(() => undefined);
    // The cluster whole again first: deleting the tenants drops their databases on it.
    await galera('start').then(
      (out) => log(out),
      (error) => log(`scripts/galera.sh start failed: ${error.message}`),
    );
    await Promise.all(stacks.map((s) => stopStack(s)));
    await stopAll();
    for (const s of stacks)
      await dropRunLeftovers(helperSettings(s), s.seen ?? [])
        .then((res) => log(`  ${s.id}: ${leftoversMessage(res, s.seen?.length ?? 0)}`))
        .catch((error) => log(`  ${s.id}: dropping leftovers failed: ${error.message}`));
    if (failed) log(`logs kept in ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }
}

await main();
