#!/usr/bin/env node
// Device registrations as a saga across the three stores, against the same writes done directly.
//
// Starts a private device broker (bench/lib/device-broker.mjs), the secure, reliable and edge
// stores and a gateway, creates BENCH_SAGA_TENANTS tenants (default 20), registers one device per
// tenant through the saga (POST /v1/devices), then brings the registries to
// BENCH_SAGA_EXISTING_DEVICES devices in all (default 100,000): by default by seeding the rest
// directly in the stores' databases, each a copy of its tenant's real registration
// (bench/lib/device-seed.mjs; BENCH_SAGA_PREREGISTER=saga registers them all through the saga
// instead, at BENCH_CONNECTIONS at a time, and reports that rate too). Then it measures three
// rounds of BENCH_DURATION_S seconds (default 15) after BENCH_WARMUP_S of warm-up, a tenant
// picked at random per registration:
// one client alternating direct and saga at random (latency alone); BENCH_CONNECTIONS clients
// (default 50) doing the same (under load, both kinds sharing it); BENCH_CONNECTIONS clients over
// HTTP. The kinds:
//   direct: the registration's four participant commands (registry row, credential, edge
//           provisioning, activation) sent one after the other by the client over NATS: the
//           same writes in the same stores, without the saga log, leases or locks;
//   saga:   the gateway's device-registration saga run by a SagaOrchestrator in this process
//           (same NATS client): start, then wait until it is done;
//   http:   POST /v1/devices through the gateway (the saga as clients see it: 201 with the token).
// The target: at least 500 registrations/s through the whole saga (the HTTP round) with 100,000
// devices already registered. CPU per registration of each process is reported per round.
// Checks afterwards that the registries hold exactly the registrations that completed (the
// active devices in each tenant's reliable placement, as GET /admin/tenants lists it).
// Writes bench/results/<stamp>-saga-registrations.{json,md} and latest-saga-registrations.md. At
// the end the tenants are deleted through the admin API; whatever the run's catalog
// (polystore_bench_saga_system) still lists is dropped directly, then the catalog (also at the
// start, after a run that could not clean up).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataSource } from 'typeorm';
import { connectNats, Contracts, MessageClient } from '#polystore/messaging';
import { SagaOrchestrator, SagaState } from '#polystore/saga';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { mapLimit } from './lib/concurrency.mjs';
import { APPS_ROOT, ROOT, envInt as int } from './lib/config.mjs';
import { cpuBetween, cpuSnapshot } from './lib/cpu.mjs';
import { startDeviceBroker } from './lib/device-broker.mjs';
import { seedRegisteredDevices } from './lib/device-seed.mjs';
import { expectStatus, request } from './lib/http.mjs';
import { dropBenchLeftovers, dropRunLeftovers, leftoversMessage } from './lib/leftovers.mjs';
import { machineInfo } from './lib/machine.mjs';
import { databaseUrl } from './lib/pg.mjs';
import { startApp, stopAll } from './lib/processes.mjs';
import { fileStamp } from './lib/report.mjs';
import { countRows, placementOf } from './lib/tenant-data.mjs';
import { listPlacements } from './lib/tenants.mjs';
import { contextEnv, contextSigner } from './lib/context-key.mjs';

const { deviceRegistrationSaga } = await import(
  pathToFileURL(join(ROOT, 'dist/apps/gateway/src/sagas/device-registration.saga.js')).href
);

const log = (message) => console.log(message);
const preregister = process.env.BENCH_SAGA_PREREGISTER ?? 'seed';
if (!['seed', 'saga'].includes(preregister)) throw new Error('BENCH_SAGA_PREREGISTER must be seed or saga');

const settings = {
  runId: randomBytes(3)
    .toString('hex')
    .replace(/^[0-9]/, 's'),
  tenants: int('BENCH_SAGA_TENANTS', 20),
  connections: int('BENCH_CONNECTIONS', 50),
  durationS: int('BENCH_DURATION_S', 15),
  warmupS: int('BENCH_WARMUP_S', 3),
  /** Devices registered before the rounds, in all tenants (at least one per tenant: its template). */
  existingDevices: int('BENCH_SAGA_EXISTING_DEVICES', 100_000, 0),
  /** `seed`: beyond one real registration per tenant, copies written directly; `saga`: all through POST /v1/devices. */
  preregister,
  targetPerSecond: 500,
  pgServerUrl: process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432',
  mariadbUrl: process.env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  catalogDatabase: 'polystore_bench_saga_system',
  baseDomain: 'bench.test',
  adminToken: `bench-admin-${randomBytes(18).toString('base64url')}`,
  masterKey: randomBytes(32).toString('base64'),
};
const prefix = `benchs${settings.runId}`;
const resultsDir = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results');
const S = Contracts.sagaSteps;

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Per-command latencies of the direct scenario (where a registration's time goes). */
const stepLatencies = { registry: [], credential: [], provision: [], activate: [] };

/** The four commands of a registration, in order, without the orchestrator. */
async function registerDirectly(client, slug) {
  const sagaId = randomUUID();
  const deviceId = randomUUID();
  const send = async (contract, step, fields) => {
    const started = performance.now();
    await runAsTenant(slug, () => client.request(contract, { sagaId, step, phase: 'action', ...fields }), 10_000);
    stepLatencies[step].push(performance.now() - started);
  };
  await send(S.reliable.registerDevice, 'registry', {
    device: { id: deviceId, name: 'Bench meter', model: 'BM-1', customerId: null },
  });
  await send(S.secure.issueCredential, 'credential', { deviceId });
  await send(S.edge.provisionDevice, 'provision', { deviceId });
  await send(S.reliable.activateDevice, 'activate', { deviceId });
}

async function registerWithSaga(orchestrator, definition, slug) {
  const id = await orchestrator.start(
    definition,
    { deviceId: randomUUID(), name: 'Bench meter', model: 'BM-1', customerId: null },
    { tenant: parseTenantSlug(slug) },
  );
  const saga = await orchestrator.waitFor(id, 30_000);
  if (saga.state !== SagaState.SUCCEEDED) {
    throw Object.assign(new Error(`saga ${saga.state}`), { code: saga.error?.code ?? saga.state });
  }
}

async function registerOverHttp(gatewayPort, tenant) {
  const response = await request({
    port: gatewayPort,
    host: `${tenant.slug}.${settings.baseDomain}`,
    token: tenant.apiKey,
    method: 'POST',
    path: '/v1/devices',
    body: { name: 'Bench meter', model: 'BM-1' },
    timeoutMs: 30_000,
  });
  if (response.status !== 201) {
    throw Object.assign(new Error(`HTTP ${response.status}`), {
      code: response.body?.code ?? `HTTP_${response.status}`,
    });
  }
  if (typeof response.body?.token !== 'string') throw Object.assign(new Error('no token'), { code: 'NO_TOKEN' });
  return response.body;
}

/**
 * `connections` loops for `seconds`; each iteration picks one of `kinds` at random (so the kinds
 * compared share the same moment, load and broker state) and a tenant at random. Returns, per
 * kind, completions per second, latency percentiles and errors.
 */
async function drive(tenants, seconds, scenarios, kinds, connections = settings.connections) {
  const deadline = Date.now() + seconds * 1000;
  const byKind = Object.fromEntries(kinds.map((k) => [k, { latencies: [], errors: 0, errorCodes: {} }]));
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        const kind = kinds[Math.floor(Math.random() * kinds.length)];
        const tenant = tenants[Math.floor(Math.random() * tenants.length)];
        const started = performance.now();
        try {
          await scenarios[kind](tenant);
          byKind[kind].latencies.push(performance.now() - started);
        } catch (error) {
          byKind[kind].errors++;
          const code = error?.code ?? 'ERROR';
          byKind[kind].errorCodes[code] = (byKind[kind].errorCodes[code] ?? 0) + 1;
        }
      }
    }),
  );
  return Object.fromEntries(
    Object.entries(byKind).map(([kind, r]) => {
      const sorted = r.latencies.sort((x, y) => x - y);
      return [
        kind,
        {
          completed: sorted.length,
          perSecond: sorted.length / seconds,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          errors: r.errors,
          errorCodes: r.errorCodes,
        },
      ];
    }),
  );
}

/** Active devices in the tenants' reliable placements (the registries). */
async function activeDevices(placements) {
  const counts = await countRows(settings, placements, 'devices', "status = 'active'");
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Waits (up to a minute) until no saga of the run is still in flight, then compares the active
 * devices with what should exist: every acknowledged registration plus every saga that finished
 * after its caller stopped waiting (a 202 over HTTP, a timed-out wait in this process).
 */
async function settle(systemDb, registries) {
  const inFlight = async () =>
    Number(
      (await systemDb.query(`SELECT count(*) AS n FROM sagas WHERE state IN ('PENDING', 'RUNNING', 'COMPENSATING')`))[0]
        .n,
    );
  const until = Date.now() + 60_000;
  while ((await inFlight()) > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 500));
  const [late] = await systemDb.query(
    `SELECT count(*) AS n FROM sagas WHERE name = 'device-registration' AND state = 'SUCCEEDED'`,
  );
  const byState = await systemDb.query(`SELECT state, count(*)::int AS n FROM sagas GROUP BY state ORDER BY state`);
  return {
    sagasByState: Object.fromEntries(byState.map((r) => [r.state, r.n])),
    succeededSagas: Number(late.n),
    stillInFlight: await inFlight(),
    activeDevices: await activeDevices(registries),
  };
}

function renderMarkdown(run) {
  const fmt = (n, digits = 1) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));
  const int = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
  const what = {
    direct: 'the four participant commands over NATS, in sequence, from the client',
    saga: 'the same four, driven by the saga orchestrator (log in the system database)',
    http: '`POST /v1/devices` through the gateway (the saga, then the credential; 201 with the token)',
  };
  const rows = run.rounds.flatMap((round) =>
    Object.entries(round.results).map(
      ([kind, r]) =>
        `| ${round.id} | ${kind} | ${what[kind]} | ${fmt(r.perSecond)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors}${r.errors ? ` ${JSON.stringify(r.errorCodes)}` : ''} |`,
    ),
  );
  const ratio = (round) => {
    const { direct, saga } = round.results;
    return `${fmt(saga.p50 / direct.p50, 2)}× at p50, ${fmt(saga.p99 / direct.p99, 2)}× at p99 (throughput ${fmt(saga.perSecond / direct.perSecond, 2)}×)`;
  };
  const [alone, loaded] = run.rounds;
  const httpRound = run.rounds.find((r) => r.results.http);
  const components = ['gateway', 'secure', 'reliable', 'edge', 'postgres', 'mariadb', 'nats', 'bench', 'other'];
  const cpuRows = run.rounds.map(
    (round) =>
      `| ${round.id} | ${components.map((c) => fmt(round.cpu?.components?.[c]?.msPerRequest, 2)).join(' | ')} | ${fmt((round.cpu?.machineBusyShare ?? NaN) * 100, 0)} |`,
  );
  const pre = run.preregistration;
  const preText =
    pre.seeded > 0
      ? `${int(pre.total)} devices already registered before the rounds: ${int(pre.throughSaga)} through the saga (one per tenant, \`POST /v1/devices\`), **${int(pre.seeded)} seeded** directly in the stores' databases in ${fmt(pre.seedSeconds, 0)} s (\`bench/lib/device-seed.mjs\`: each a copy, row for row, of its tenant's real registration in every table a registration writes: the saga log in the system database, the registry row, outbox events and the saga's step keys (\`idempotency_keys\`) in the tenant's reliable database, the credential and step key in its secure and edge schemas; ids replaced; ANALYZE afterwards). A seeded device cannot authenticate (its credential hash is its template's); the tables and indexes the registrations below write into hold ${int(pre.total)} devices.`
      : `${int(pre.total)} devices already registered before the rounds, all through the saga (\`POST /v1/devices\`, ${run.settings.connections} at a time): ${fmt(pre.registrationsPerSecond)} registrations/s over ${fmt(pre.seconds, 0)} s${pre.errors ? `, ${pre.errors} errors` : ''}.`;
  return `# Device registration: saga vs the same writes done directly, with ${int(pre.total)} devices already registered

Run ${run.startedAt} on ${run.machine.cpus}, ${run.machine.memory}, Node ${run.machine.node} (PostgreSQL 15, MariaDB 10.11, NATS, the device broker (nats-server) and all four apps on this one machine${run.machine.appsRoot === '.' ? '' : `; apps from ${run.machine.appsRoot}`}).
${run.settings.tenants} tenants chosen at random per registration; ${run.settings.durationS} s measured per round after ${run.settings.warmupS} s of warm-up. In the first two rounds every iteration picks *direct* or *saga* at random, so both see the same load.

${preText}

**Target**: at least ${run.settings.targetPerSecond} registrations/s through the whole saga with 100,000 devices registered: ${httpRound ? `${fmt(httpRound.results.http.perSecond)}/s over HTTP with ${run.settings.connections} clients and ${int(pre.total)} devices registered: ${httpRound.results.http.perSecond >= run.settings.targetPerSecond ? 'met' : 'NOT met'}` : '–'}${pre.total < 100_000 ? ' (fewer devices registered than the target assumes)' : ''}.

| round | kind | what one registration is | registrations/s | p50 ms | p99 ms | errors |
|---|---|---|---:|---:|---:|---:|
${rows.join('\n')}

**Cost of the saga** (latency of a saga registration / latency of the direct writes): alone ${ratio(alone)}; under ${run.settings.connections} clients ${ratio(loaded)}. Target: at most 2× the latency.

Where a direct registration's time goes (p50 per command, all rounds): ${Object.entries(run.directStepsP50)
    .map(([step, ms]) => `${step} ${fmt(ms)} ms`)
    .join(
      ', ',
    )}. Edge provisioning is a database write: the credential is a JWT the edge store signs itself (no broker call).

CPU per registration (ms, every kind of the round together; /proc), and the machine's busy share:

| round | gateway | secure store | reliable store | edge store | PostgreSQL | MariaDB | nats-server (all on the machine) | bench | other | machine busy % |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${cpuRows.join('\n')}

With every core busy, registrations/s ≈ (cores × 1000) / (CPU ms per registration, all columns): the largest column is where the time goes. *bench* runs the direct commands and the in-process orchestrator; *other* is work nobody above accounts for (other users of the machine).

Consistency after the run (once no saga was in flight): active devices in the registries ${int(run.activeDevices)}; expected ${int(run.expectedDevices)} (direct registrations completed ${int(run.directCompleted)} + registration sagas SUCCEEDED ${int(run.succeededSagas)}, seeded ones included, and any that finished after their caller stopped waiting): ${run.activeDevices === run.expectedDevices ? 'they match' : 'MISMATCH'}. Sagas by state: ${JSON.stringify(run.sagasByState)}.

A saga adds, per registration, writes to its log in the system database, each one statement (one round trip, one commit): the creation (saga, steps and semantic lock together), each step's result written with the next step's intent, SUCCEEDED (the lock released with it): 8 statements for this four-step saga (bench/saga-round-trips.mjs counts them), around the same four participant commands (the participants write the step's key in the transaction of the effect in both kinds). Over HTTP the gateway then asks the edge store for the device's credential and claims the saga's "token shown" flag.
`;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'polystore-bench-saga-'));
  const slugs = Array.from(
    { length: settings.tenants },
    (_, i) => `benchs-${settings.runId}-${String(i + 1).padStart(3, '0')}`,
  );
  const tenants = [];
  /** Every placement GET /admin/tenants listed for this run's tenants: checked and dropped at the end. */
  const seen = [];
  const apps = {};
  let gateway;
  let broker;
  let nc;
  let systemDb;
  let orchestrator;
  let failed = false;
  try {
    log(
      `saga-registrations: run ${settings.runId}, ${settings.tenants} tenants, ${settings.connections} clients, ${settings.existingDevices} devices registered beforehand (${settings.preregister})`,
    );
    const earlier = await dropBenchLeftovers(settings);
    if (earlier)
      log(
        `dropped what an earlier run left: its catalog (${earlier.listed} placement(s) listed), ${earlier.schemas} schema(s), ${earlier.databases} database(s)`,
      );
    broker = await startDeviceBroker(dir);
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      SYSTEM_DB_URL: databaseUrl(settings.pgServerUrl, settings.catalogDatabase),
      SECURE_SERVER_URL: settings.pgServerUrl,
      RELIABLE_SERVER_URL: settings.mariadbUrl,
      EDGE_SERVER_URL: settings.pgServerUrl,
      NATS_URL: settings.natsUrl,
      NATS_SUBJECT_PREFIX: prefix,
      MASTER_KEY: settings.masterKey,
      ...contextEnv,
    };
    for (const store of ['secure', 'reliable', 'edge']) {
      apps[store] = await startApp({
        name: `${store}-store`,
        script: `dist/apps/${store}-store/src/main.js`,
        logDir: dir,
        env: {
          ...env,
          [`${store.toUpperCase()}_HTTP_PORT`]: '0',
          INSTANCE_ID: `${prefix}-${store}`,
          ...(store === 'edge'
            ? { DEVICE_BROKER_URL: broker.natsUrl, DEVICE_BROKER_KEY: broker.key, DEVICE_RATE_LIMIT_PER_S: '0' }
            : {}),
        },
      });
    }
    gateway = await startApp({
      name: 'gateway',
      script: 'dist/apps/gateway/src/main.js',
      logDir: dir,
      env: {
        ...env,
        ADMIN_TOKEN: settings.adminToken,
        BASE_DOMAIN: settings.baseDomain,
        GATEWAY_PORT: '0',
        ADMIN_PORT: '0',
        JOBS: '',
        TENANT_DELETION_GRACE_MS: '0',
        INSTANCE_ID: `${prefix}-gateway`,
      },
    });
    apps.gateway = gateway;
    log(`creating ${settings.tenants} tenants ...`);
    const outcomes = await mapLimit(slugs, 4, async (slug) => {
      const body = await expectStatus(201, {
        port: gateway.adminPort,
        host: settings.baseDomain,
        token: settings.adminToken,
        method: 'POST',
        path: '/admin/tenants',
        body: { slug, name: slug },
      });
      tenants.push({ slug, apiKey: body.apiKey });
    });
    const failedTenants = outcomes.filter((o) => !o.ok);
    if (failedTenants.length > 0)
      throw new Error(`${failedTenants.length} tenants could not be created; first: ${failedTenants[0].error.message}`);
    // Where each tenant's data is, as the admin API lists it: the registry (reliable), the credentials (secure, edge).
    const placementsBySlug = await listPlacements({ adminPort: gateway.adminPort, settings });
    for (const t of tenants) {
      seen.push(...(placementsBySlug.get(t.slug) ?? []));
      t.placements = Object.fromEntries(
        ['reliable', 'secure', 'edge'].map((store) => [
          store,
          placementOf(placementsBySlug.get(t.slug), store, t.slug),
        ]),
      );
    }
    const registries = tenants.map((t) => t.placements.reliable);
    const kinds = Object.fromEntries(seen.map((p) => [p.store, p.kind]));
    log(`  placements: ${JSON.stringify(kinds)}`);

    // --- devices registered before the rounds -------------------------------------------------
    const preregistration = { total: 0, throughSaga: 0, seeded: 0 };
    log(`registering one device per tenant through the saga (the seeds' templates) ...`);
    const templates = await mapLimit(tenants, 4, async (t) => {
      const body = await registerOverHttp(gateway.port, t);
      t.template = { deviceId: body.id, sagaId: body.sagaId };
    });
    const noTemplate = templates.filter((o) => !o.ok);
    if (noTemplate.length) throw new Error(`${noTemplate.length} registrations failed: ${noTemplate[0].error.message}`);
    preregistration.throughSaga = tenants.length;
    const remaining = Math.max(0, settings.existingDevices - tenants.length);
    if (remaining > 0 && settings.preregister === 'seed') {
      log(`seeding ${remaining} registered devices directly (copies of each tenant's registration) ...`);
      const started = performance.now();
      let lastLog = 0;
      const written = await seedRegisteredDevices(
        settings,
        settings.catalogDatabase,
        tenants.map((t, i) => ({
          ...t,
          count: Math.floor(remaining / tenants.length) + (i < remaining % tenants.length ? 1 : 0),
        })),
        {
          onProgress: (done) => {
            if (performance.now() - lastLog > 5_000 || done === remaining) {
              lastLog = performance.now();
              log(`  seeded ${done}/${remaining}`);
            }
          },
        },
      );
      preregistration.seeded = remaining;
      preregistration.seedSeconds = (performance.now() - started) / 1000;
      preregistration.rowsWritten = written;
      log(`  seeded in ${preregistration.seedSeconds.toFixed(0)} s: ${JSON.stringify(written)}`);
    } else if (remaining > 0) {
      log(`registering ${remaining} more devices through the saga (${settings.connections} at a time) ...`);
      const started = performance.now();
      let done = 0;
      let errors = 0;
      let next = 0;
      await Promise.all(
        Array.from({ length: settings.connections }, async () => {
          while (next < remaining) {
            next++;
            const t = tenants[Math.floor(Math.random() * tenants.length)];
            try {
              await registerOverHttp(gateway.port, t);
              done++;
              if (done % 5_000 === 0) log(`  registered ${done}/${remaining}`);
            } catch {
              errors++;
            }
          }
        }),
      );
      preregistration.throughSaga += done;
      preregistration.seconds = (performance.now() - started) / 1000;
      preregistration.registrationsPerSecond = done / preregistration.seconds;
      preregistration.errors = errors;
      log(
        `  ${done} in ${preregistration.seconds.toFixed(0)} s (${preregistration.registrationsPerSecond.toFixed(1)}/s), ${errors} errors`,
      );
    }
    preregistration.total = preregistration.throughSaga + preregistration.seeded;

    nc = await connectNats({ url: settings.natsUrl, name: 'bench-saga' });
    const client = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 10_000, signer: contextSigner });
    const url = new URL(databaseUrl(settings.pgServerUrl, settings.catalogDatabase));
    systemDb = new DataSource({
      type: 'postgres',
      host: url.hostname,
      port: Number(url.port || 5432),
      username: decodeURIComponent(url.username || 'root'),
      database: settings.catalogDatabase,
      poolSize: 10,
      extra: { max: 10 },
    });
    await systemDb.initialize();
    orchestrator = new SagaOrchestrator(systemDb, {
      owner: `bench:${settings.runId}`,
      leaseMs: 30_000,
      sweepIntervalMs: 0,
      maxConcurrentRecoveries: 1,
    });
    const definition = deviceRegistrationSaga(client);
    orchestrator.register(definition);

    const scenarios = {
      direct: (t) => registerDirectly(client, t.slug),
      saga: (t) => registerWithSaga(orchestrator, definition, t.slug),
      http: (t) => registerOverHttp(gateway.port, t),
    };
    const pids = () => Object.fromEntries(Object.entries(apps).map(([name, app]) => [name, app.pid]));
    const rounds = [];
    let directDone = 0;
    const plan = [
      // One client: a registration's own latency, nothing queued: the saga's cost in isolation.
      { id: 'one client', kinds: ['direct', 'saga'], connections: 1 },
      // Many clients, the two kinds interleaved at random: the same load for both.
      { id: `${settings.connections} clients`, kinds: ['direct', 'saga'], connections: settings.connections },
      { id: `${settings.connections} clients, HTTP`, kinds: ['http'], connections: settings.connections },
    ];
    for (const round of plan) {
      log(`▶ ${round.id} (${round.kinds.join(' + ')}): warm-up ${settings.warmupS} s, then ${settings.durationS} s`);
      const warm = await drive(tenants, settings.warmupS, scenarios, round.kinds, round.connections);
      const cpuBefore = cpuSnapshot(pids());
      const result = await drive(tenants, settings.durationS, scenarios, round.kinds, round.connections);
      const completed = Object.values(result).reduce((a, r) => a + r.completed, 0);
      const cpu = cpuBetween(cpuBefore, cpuSnapshot(pids()), completed);
      directDone += (warm.direct?.completed ?? 0) + (result.direct?.completed ?? 0);
      rounds.push({ ...round, results: result, cpu });
      for (const [kind, r] of Object.entries(result)) {
        log(
          `  ${kind}: ${r.perSecond.toFixed(1)} registrations/s, p50 ${r.p50?.toFixed(1)} ms, p99 ${r.p99?.toFixed(1)} ms, errors ${r.errors} ${JSON.stringify(r.errorCodes)}`,
        );
      }
      log(
        `  CPU ms per registration: ${Object.entries(cpu.components)
          .map(([k, v]) => `${k} ${v.msPerRequest?.toFixed(2)}`)
          .join(', ')}; machine busy ${Math.round((cpu.machineBusyShare ?? 0) * 100)}%`,
      );
    }
    const steps = Object.fromEntries(
      Object.entries(stepLatencies).map(([step, list]) => [
        step,
        percentile(
          [...list].sort((x, y) => x - y),
          50,
        ),
      ]),
    );
    log(`  direct, per command p50 ms: ${JSON.stringify(steps)}`);
    const directCompleted = directDone;
    const machine = await machineInfo(settings.pgServerUrl, APPS_ROOT);
    const run = {
      startedAt: new Date().toISOString(),
      settings: {
        tenants: settings.tenants,
        connections: settings.connections,
        durationS: settings.durationS,
        warmupS: settings.warmupS,
        existingDevices: settings.existingDevices,
        preregister: settings.preregister,
        targetPerSecond: settings.targetPerSecond,
        placementKinds: kinds,
      },
      machine: {
        ...machine,
        cpus: `${machine.cpuCount} × ${machine.cpuModel}`,
        memory: `${machine.totalMemoryGiB} GiB`,
        node: machine.nodeVersion,
      },
      preregistration,
      rounds,
      directStepsP50: steps,
      ...(await settle(systemDb, registries)),
      directCompleted,
    };
    run.expectedDevices = directCompleted + run.succeededSagas;
    mkdirSync(resultsDir, { recursive: true });
    const stamp = fileStamp(new Date());
    writeFileSync(join(resultsDir, `${stamp}-saga-registrations.json`), `${JSON.stringify(run, null, 2)}\n`);
    const markdown = renderMarkdown(run);
    writeFileSync(join(resultsDir, `${stamp}-saga-registrations.md`), markdown);
    writeFileSync(join(resultsDir, 'latest-saga-registrations.md'), markdown);
    log(`\n${markdown}`);
    log(`results: ${join(resultsDir, `${stamp}-saga-registrations.{json,md}`)}`);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await orchestrator?.stop().catch(() => undefined);
    await systemDb?.destroy().catch(() => undefined);
    await nc?.drain().catch(() => undefined);
    if (gateway?.isRunning) {
      log(`deleting ${tenants.length} tenants ...`);
      await mapLimit(tenants, 4, (t) =>
        request({
          port: gateway.adminPort,
          host: settings.baseDomain,
          token: settings.adminToken,
          method: 'DELETE',
          path: `/admin/tenants/${t.slug}`,
          timeoutMs: 300_000,
        }),
      );
    }
    await stopAll();
    await broker?.stop().catch(() => undefined);
    await dropRunLeftovers(settings, seen)
      .then((result) => log(leftoversMessage(result, seen.length)))
      .catch((error) => log(`cleanup: dropping leftovers failed: ${error.message}`));
    if (failed) log(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
