#!/usr/bin/env node
// Device registrations as a saga across the three stores, against the same writes done directly.
//
// Starts a private Mosquitto, the secure, reliable and edge stores and a gateway, creates
// BENCH_SAGA_TENANTS tenants (default 20), then measures three rounds of BENCH_DURATION_S seconds
// (default 15) after BENCH_WARMUP_S of warm-up, a tenant picked at random per registration:
// one client alternating direct and saga at random (latency alone); BENCH_CONNECTIONS clients
// (default 50) doing the same (under load, both kinds sharing it); BENCH_CONNECTIONS clients over
// HTTP. The kinds:
//   direct: the registration's four participant commands (registry row, credential, edge
//           provisioning, activation) sent one after the other by the client over NATS: the
//           same writes in the same stores, without the saga log, leases or locks;
//   saga:   the gateway's device-registration saga run by a SagaOrchestrator in this process
//           (same NATS client): start, then wait until it is done;
//   http:   POST /v1/devices through the gateway (the saga as clients see it: 201 with the token).
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
import { ROOT } from './lib/config.mjs';
import { expectStatus, request } from './lib/http.mjs';
import { dropBenchLeftovers, dropRunLeftovers, leftoversMessage } from './lib/leftovers.mjs';
import { machineInfo } from './lib/machine.mjs';
import { startMosquitto } from './lib/mosquitto.mjs';
import { databaseUrl } from './lib/pg.mjs';
import { startApp, stopAll } from './lib/processes.mjs';
import { fileStamp } from './lib/report.mjs';
import { countRows, placementOf } from './lib/tenant-data.mjs';
import { listPlacements } from './lib/tenants.mjs';

const { deviceRegistrationSaga } = await import(
  pathToFileURL(join(ROOT, 'dist/apps/gateway/src/sagas/device-registration.saga.js')).href
);

const log = (message) => console.log(message);
const int = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};

const settings = {
  runId: randomBytes(3)
    .toString('hex')
    .replace(/^[0-9]/, 's'),
  tenants: int('BENCH_SAGA_TENANTS', 20),
  connections: int('BENCH_CONNECTIONS', 50),
  durationS: int('BENCH_DURATION_S', 15),
  warmupS: int('BENCH_WARMUP_S', 3),
  pgServerUrl: process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432',
  mariadbUrl: process.env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  catalogDatabase: 'polystore_bench_saga_system',
  baseDomain: 'bench.test',
  adminToken: `bench-admin-${randomBytes(18).toString('base64url')}`,
  masterKey: randomBytes(32).toString('base64'),
};
const prefix = `benchs${settings.runId}`;
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
  const what = {
    direct: 'the four participant commands over NATS, in sequence, from the client',
    saga: 'the same four, driven by the saga orchestrator (log in the system database)',
    http: '`POST /v1/devices` through the gateway (the saga; 201 with the token)',
  };
  const rows = run.rounds.flatMap((round) =>
    Object.entries(round.results).map(
      ([kind, r]) =>
        `| ${round.id} | ${kind} | ${what[kind]} | ${fmt(r.perSecond)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors} |`,
    ),
  );
  const ratio = (round) => {
    const { direct, saga } = round.results;
    return `${fmt(saga.p50 / direct.p50, 2)}× at p50, ${fmt(saga.p99 / direct.p99, 2)}× at p99 (throughput ${fmt(saga.perSecond / direct.perSecond, 2)}×)`;
  };
  const [alone, loaded] = run.rounds;
  return `# Device registration: saga vs the same writes done directly

Run ${run.startedAt} on ${run.machine.cpus}, ${run.machine.memory}, Node ${run.machine.node} (PostgreSQL 15, MariaDB 10.11, NATS, Mosquitto 2.0.11 and all four apps on this one machine).
${run.settings.tenants} tenants chosen at random per registration; ${run.settings.durationS} s measured per round after ${run.settings.warmupS} s of warm-up. In the first two rounds every iteration picks *direct* or *saga* at random, so both see the same load and the same broker.

| round | kind | what one registration is | registrations/s | p50 ms | p99 ms | errors |
|---|---|---|---:|---:|---:|---:|
${rows.join('\n')}

**Cost of the saga** (latency of a saga registration / latency of the direct writes): alone ${ratio(alone)}; under ${run.settings.connections} clients ${ratio(loaded)}. Target: at most 2× the latency.

Where a direct registration's time goes (p50 per command, all rounds): ${Object.entries(run.directStepsP50)
    .map(([step, ms]) => `${step} ${fmt(ms)} ms`)
    .join(
      ', ',
    )}. Edge provisioning dominates under load: each grant is two dynamic-security commands, serialized per edge-store process, and Mosquitto rewrites its \`dynamic-security.json\` on every change, so grants slow down as devices accumulate on the broker (see apps/edge-store/src/broker/README.md).

Consistency after the run (once no saga was in flight): active devices in the registries ${run.activeDevices}; expected ${run.expectedDevices} (direct registrations completed ${run.directCompleted} + registration sagas SUCCEEDED ${run.succeededSagas}, including any that finished after their caller stopped waiting): ${run.activeDevices === run.expectedDevices ? 'they match' : 'MISMATCH'}. Sagas by state: ${JSON.stringify(run.sagasByState)}.

A saga adds, per registration, writes to its log in the system database, each one statement (one round trip, one commit): the creation (saga, steps and semantic lock together), each step's intent and each step's result, RUNNING and SUCCEEDED (the lock released with it), plus one read of the saga per group: 19 queries for this four-step saga, around the same four participant commands (the participants write their inbox row in the transaction of the effect in both kinds).
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
  let gateway;
  let broker;
  let nc;
  let systemDb;
  let orchestrator;
  try {
    log(`saga-registrations: run ${settings.runId}, ${settings.tenants} tenants, ${settings.connections} clients`);
    const earlier = await dropBenchLeftovers(settings);
    if (earlier)
      log(
        `dropped what an earlier run left: its catalog (${earlier.listed} placement(s) listed), ${earlier.schemas} schema(s), ${earlier.databases} database(s)`,
      );
    broker = await startMosquitto(dir);
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      SYSTEM_DB_URL: databaseUrl(settings.pgServerUrl, settings.catalogDatabase),
      SECURE_SERVER_URL: settings.pgServerUrl,
      RELIABLE_SERVER_URL: settings.mariadbUrl,
      EDGE_SERVER_URL: settings.pgServerUrl,
      NATS_URL: settings.natsUrl,
      NATS_SUBJECT_PREFIX: prefix,
      MASTER_KEY: settings.masterKey,
      MQTT_URL: broker.url,
      MQTT_ADMIN_PASSWORD: broker.password,
    };
    for (const store of ['secure', 'reliable', 'edge']) {
      await startApp({
        name: `${store}-store`,
        script: `dist/apps/${store}-store/src/main.js`,
        logDir: dir,
        env: {
          ...env,
          LOG_LEVEL: 'info',
          [`${store.toUpperCase()}_HTTP_PORT`]: '0',
          INSTANCE_ID: `${prefix}-${store}`,
        },
      });
    }
    gateway = await startApp({
      name: 'gateway',
      script: 'dist/apps/gateway/src/main.js',
      logDir: dir,
      env: {
        ...env,
        LOG_LEVEL: 'info',
        ADMIN_TOKEN: settings.adminToken,
        BASE_DOMAIN: settings.baseDomain,
        GATEWAY_PORT: '0',
        INSTANCE_ID: `${prefix}-gateway`,
      },
    });
    log(`creating ${settings.tenants} tenants ...`);
    const outcomes = await mapLimit(slugs, 4, async (slug) => {
      const body = await expectStatus(201, {
        port: gateway.port,
        host: settings.baseDomain,
        token: settings.adminToken,
        method: 'POST',
        path: '/admin/tenants',
        body: { slug, name: slug },
      });
      tenants.push({ slug, apiKey: body.apiKey });
    });
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length > 0)
      throw new Error(`${failed.length} tenants could not be created; first: ${failed[0].error.message}`);
    // Where each tenant's registry is: its reliable placement, as the admin API lists it.
    const placementsBySlug = await listPlacements({ gatewayPort: gateway.port, settings });
    for (const t of tenants) seen.push(...(placementsBySlug.get(t.slug) ?? []));
    const registries = tenants.map((t) => placementOf(placementsBySlug.get(t.slug), 'reliable', t.slug));
    const kinds = Object.fromEntries(seen.map((p) => [p.store, p.kind]));
    log(`  placements: ${JSON.stringify(kinds)}`);

    nc = await connectNats({ url: settings.natsUrl, name: 'bench-saga' });
    const client = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 10_000 });
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
    const rounds = [];
    let directDone = 0;
    const plan = [
      // One client: a registration's own latency, nothing queued: the saga's cost in isolation.
      { id: 'one client', kinds: ['direct', 'saga'], connections: 1 },
      // Many clients, the two kinds interleaved at random: the same load and broker state for both.
      { id: `${settings.connections} clients`, kinds: ['direct', 'saga'], connections: settings.connections },
      { id: `${settings.connections} clients, HTTP`, kinds: ['http'], connections: settings.connections },
    ];
    for (const round of plan) {
      log(`▶ ${round.id} (${round.kinds.join(' + ')}): warm-up ${settings.warmupS} s, then ${settings.durationS} s`);
      const warm = await drive(tenants, settings.warmupS, scenarios, round.kinds, round.connections);
      const result = await drive(tenants, settings.durationS, scenarios, round.kinds, round.connections);
      directDone += (warm.direct?.completed ?? 0) + (result.direct?.completed ?? 0);
      rounds.push({ ...round, results: result });
      for (const [kind, r] of Object.entries(result)) {
        log(
          `  ${kind}: ${r.perSecond.toFixed(1)} registrations/s, p50 ${r.p50?.toFixed(1)} ms, p99 ${r.p99?.toFixed(1)} ms, errors ${r.errors} ${JSON.stringify(r.errorCodes)}`,
        );
      }
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
    const run = {
      startedAt: new Date().toISOString(),
      settings: {
        tenants: settings.tenants,
        connections: settings.connections,
        durationS: settings.durationS,
        warmupS: settings.warmupS,
        placementKinds: kinds,
      },
      machine: await machineInfo(settings.pgServerUrl).then((m) => ({
        cpus: `${m.cpuCount} × ${m.cpuModel}`,
        memory: `${m.totalMemoryGiB} GiB`,
        node: m.nodeVersion,
        os: m.os,
        git: m.git,
      })),
      rounds,
      directStepsP50: steps,
      ...(await settle(systemDb, registries)),
      directCompleted,
    };
    run.expectedDevices = directCompleted + run.succeededSagas;
    const out = join(ROOT, 'bench/results');
    mkdirSync(out, { recursive: true });
    const stamp = fileStamp(new Date());
    writeFileSync(join(out, `${stamp}-saga-registrations.json`), `${JSON.stringify(run, null, 2)}\n`);
    const markdown = renderMarkdown(run);
    writeFileSync(join(out, `${stamp}-saga-registrations.md`), markdown);
    writeFileSync(join(out, 'latest-saga-registrations.md'), markdown);
    log(`\n${markdown}`);
  } finally {
    await orchestrator?.stop().catch(() => undefined);
    await systemDb?.destroy().catch(() => undefined);
    await nc?.drain().catch(() => undefined);
    if (gateway?.isRunning) {
      log(`deleting ${tenants.length} tenants ...`);
      await mapLimit(tenants, 4, (t) =>
        request({
          port: gateway.port,
          host: settings.baseDomain,
          token: settings.adminToken,
          method: 'DELETE',
          path: `/admin/tenants/${t.slug}`,
        }),
      );
    }
    await stopAll();
    broker?.child.kill('SIGTERM');
    await dropRunLeftovers(settings, seen)
      .then((result) => log(leftoversMessage(result, seen.length)))
      .catch((error) => log(`cleanup: dropping leftovers failed: ${error.message}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
