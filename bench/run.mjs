#!/usr/bin/env node
// `npm run bench` (after `npm run build`): reading one customer through Polystore at 1 to 1,000
// tenants (schema placements: one shared pool), side by side with the floor (a plain Nest +
// TypeORM app on one fixed DataSource), a naive request-scoped multi-tenant Nest app, and the
// old layout (database placements), in one run on one machine state; and how fast tenants are
// provisioned.
//
// 1. starts the gateway and the secure store (built apps, real processes, bench-only catalog,
//    NATS prefix and instance ids);
// 2. creates max(BENCH_TENANTS) tenants through the admin API (default placements: a schema each
//    in polystore_secure), timed: the secure store's provisioning rate; then
//    BENCH_DATABASE_TENANTS tenants with `database` placements; one customer each; reads every
//    tenant's placement back from GET /admin/tenants;
// 3. measures, with autocannon (BENCH_CONNECTIONS connections, warm-up, BENCH_DURATION_S s):
//    the floor on tenant 1's customers table; Polystore at 1 tenant, and at 1 tenant with the
//    tenant cap at the whole pool; Polystore at each larger tenant count; the naive baseline and
//    Polystore with database placements at BENCH_NAIVE_TENANTS / BENCH_DATABASE_TENANTS tenants;
// 4. starts the reliable (MariaDB) and edge stores and a gateway running all three, and times
//    the creation of BENCH_ALL_STORES_TENANTS tenants in every store;
// 5. writes bench/results/<stamp>-read-customer.{json,md} and latest-read-customer.md;
// 6. always (also on Ctrl-C or an error): deletes its tenants through the admin API, stops its
//    processes, drops whatever the bench catalog still lists (schemas, databases), then the catalog.
// See bench/README.md.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { effectiveSecureLimits, PROFILE_DIR, ROOT, readSettings } from './lib/config.mjs';
import { cpuBetween, cpuSnapshot, machineBusyShare } from './lib/cpu.mjs';
import { dropBenchLeftovers, dropPlacements } from './lib/leftovers.mjs';
import { stopLoad } from './lib/load.mjs';
import { machineInfo } from './lib/machine.mjs';
import { ConnectionSampler, vacuumChurnedCatalogs } from './lib/pg.mjs';
import { killAll, stopAll, summarizeProfiles } from './lib/processes.mjs';
import { renderConsoleTable, writeResults } from './lib/report.mjs';
import { measureScenario } from './lib/scenario.mjs';
import {
  connectionNames,
  EDGE_STORE_SCRIPT,
  FLOOR_APPLICATION_NAME,
  FLOOR_SCRIPT,
  GATEWAY_SCRIPT,
  NAIVE_APPLICATION_NAME,
  NAIVE_SCRIPT,
  RELIABLE_STORE_SCRIPT,
  SECURE_STORE_SCRIPT,
  startEdgeStore,
  startFloor,
  startGateway,
  startNaive,
  startReliableStore,
  startSecureStore,
} from './lib/stack.mjs';
import {
  attachSecurePlacements,
  createCustomers,
  createTenants,
  deleteTenants,
  listPlacements,
  tenantSlugs,
} from './lib/tenants.mjs';

const log = (message) => console.log(message);

/** What cleanup needs to know, whatever step the run stopped at. */
const state = {
  abort: new AbortController(),
  logDir: null,
  gateway: null,
  secure: null,
  reliable: null,
  edge: null,
  sampler: null,
  createdTenants: new Set(),
  /** Every placement GET /admin/tenants listed for this run's tenants: checked and dropped at cleanup. */
  placements: [],
};

/** Throws once Ctrl-C (or SIGTERM) was received, so the run goes straight to cleanup. */
function throwIfAborted() {
  if (state.abort.signal.aborted) throw new Error('interrupted');
}

/** First signal: stop the load and clean up. Second: kill what was started and leave. */
function installSignalHandlers() {
  let received = 0;
  const onSignal = (signal) => {
    received++;
    if (received === 1) {
      log(`\n${signal}: stopping; cleaning up tenants, processes and databases (signal again to force)`);
      state.abort.abort();
      stopLoad();
      return;
    }
    log('forced exit: processes killed; what the bench catalog still lists is dropped at the start of the next run');
    killAll();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Resolves if something accepts TCP connections at `url`'s host and port. */
function checkTcp(url, defaultPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
    socket.setTimeout(3_000, () => socket.destroy(new Error('timeout')));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', (error) => reject(new Error(`${url} is not reachable: ${error.message}`)));
  });
}

/** Built apps present, servers reachable, leftovers of an interrupted earlier run removed. */
async function preflight(settings) {
  const scripts = [GATEWAY_SCRIPT, SECURE_STORE_SCRIPT, FLOOR_SCRIPT, NAIVE_SCRIPT];
  if (settings.allStoresTenants > 0) scripts.push(RELIABLE_STORE_SCRIPT, EDGE_STORE_SCRIPT);
  for (const script of scripts) {
    if (!existsSync(join(settings.appsRoot, script)))
      throw new Error(
        `${join(settings.appsRoot, script)} is missing: run \`npm run build\` first (\`npm run bench\` does)`,
      );
  }
  await checkTcp(settings.natsUrl, 4222);
  if (settings.allStoresTenants > 0) await checkTcp(settings.mariadbUrl, 3306);
  const dropped = await dropBenchLeftovers(settings);
  if (dropped)
    log(
      `dropped what an interrupted earlier run left: its catalog (${dropped.listed} placement(s) listed), ${dropped.schemas} schema(s), ${dropped.databases} database(s)`,
    );
}

/** The load's request for each tenant: its Host, key and customer. */
function polystoreTargets(tenants) {
  return tenants.map((t) => ({ host: t.host, token: t.apiKey, path: `/v1/customers/${t.customerId}` }));
}

/** `^(db1|db2|...)$`: the databases of `tenants` (database placements), for pg_stat_database. */
function ownDatabasesPattern(tenants) {
  return `^(${tenants.map((t) => t.placement.database).join('|')})$`;
}

/**
 * Runs one Polystore scenario on `tenants`. The secure store is restarted first, so every
 * scenario starts from a store holding no connection or DataSource of another scenario (or of
 * the setup), and its warm-up brings it to steady state.
 */
async function measurePolystore({ settings, limits, tenants, placement, variant }) {
  const count = tenants.length;
  const tenantCap = variant === 'cap' ? limits.sharedPool : settings.secure.tenantCap;
  const id = `polystore-${placement === 'database' ? 'db-' : ''}${count}${variant === 'cap' ? `-cap${tenantCap}` : ''}`;
  log(
    `\n▶ ${id}: Polystore, ${count} tenant(s), ${placement} placements${variant === 'cap' ? `, tenant cap ${tenantCap}` : ''}`,
  );
  await restartSecureStore(settings, { tenantCap });
  const label =
    placement === 'database'
      ? 'Polystore, database placements (old layout)'
      : variant === 'cap'
        ? `Polystore, tenant cap ${tenantCap}`
        : 'Polystore';
  return measureScenario({
    settings,
    sampler: state.sampler,
    port: state.gateway.port,
    targets: polystoreTargets(tenants),
    pids: { gateway: state.gateway.pid, secure: state.secure.pid },
    scrapeFrom: { adminPort: state.gateway.adminPort, adminHost: settings.baseDomain, securePort: state.secure.port },
    poolNames: [connectionNames(settings).tenantPool],
    sessionsOf: placement === 'database' ? ownDatabasesPattern(tenants) : null,
    describe: {
      id,
      kind: 'polystore',
      placement,
      variant: variant ?? null,
      label,
      tenants: count,
      limits: {
        budget: limits.budget,
        sharedPool: limits.sharedPool,
        tenantCap: variant === 'cap' ? tenantCap : limits.tenantCap,
        ownPoolSize: settings.secure.poolSize,
      },
    },
    log,
    signal: state.abort.signal,
  });
}

/** Runs the floor on tenant 1's customers table (its schema in polystore_secure), then stops it. */
async function measureFloor({ settings, tenant }) {
  const where = tenant.placement.schema
    ? `${tenant.placement.database}, schema ${tenant.placement.schema}`
    : tenant.placement.database;
  log(`\n▶ floor: Nest + TypeORM, one DataSource on ${where}`);
  // A fresh secure store: the connections the setup opened would otherwise sit beside the floor.
  await restartSecureStore(settings);
  const floor = await startFloor(settings, state.logDir, tenant.placement);
  try {
    return await measureScenario({
      settings,
      sampler: state.sampler,
      port: floor.port,
      targets: [{ host: `127.0.0.1:${floor.port}`, path: `/customers/${tenant.customerId}` }],
      pids: { floor: floor.pid, gateway: state.gateway.pid, secure: state.secure.pid },
      scrapeFrom: null,
      poolNames: [FLOOR_APPLICATION_NAME],
      describe: {
        id: 'floor',
        kind: 'floor',
        placement: tenant.placement.kind,
        variant: null,
        label: 'Floor (Nest + TypeORM)',
        tenants: 1,
        limits: { poolSize: settings.baselinePoolSize },
      },
      log,
      signal: state.abort.signal,
    });
  } finally {
    await floor.stop();
  }
}

/** Runs the naive request-scoped baseline on `tenants`, then stops it. */
async function measureNaive({ settings, tenants }) {
  log(
    `\n▶ naive-${tenants.length}: request-scoped Nest app, one DataSource (pool ${settings.naivePoolSize}) per tenant, ${tenants.length} tenants`,
  );
  await restartSecureStore(settings);
  const naive = await startNaive(
    settings,
    state.logDir,
    tenants.map((t) => ({ slug: t.slug, database: t.placement.database, schema: t.placement.schema })),
  );
  try {
    return await measureScenario({
      settings,
      sampler: state.sampler,
      port: naive.port,
      targets: tenants.map((t) => ({ host: t.host, path: `/customers/${t.customerId}` })),
      pids: { naive: naive.pid, gateway: state.gateway.pid, secure: state.secure.pid },
      scrapeFrom: null,
      poolNames: [NAIVE_APPLICATION_NAME],
      describe: {
        id: `naive-${tenants.length}`,
        kind: 'naive',
        placement: tenants[0].placement.kind,
        variant: null,
        label: 'Naive (request-scoped, DataSource per tenant)',
        tenants: tenants.length,
        limits: { poolSize: settings.naivePoolSize, connections: tenants.length * settings.naivePoolSize },
      },
      log,
      signal: state.abort.signal,
    });
  } finally {
    await naive.stop();
  }
}

/** Replaces the running secure store by a fresh one (tenant cap as given, the defaults otherwise). */
async function restartSecureStore(settings, options) {
  await state.secure.stop();
  state.secure = await startSecureStore(settings, state.logDir, options);
}

/**
 * The scenarios, in an order that keeps the comparisons next to each other in time: the floor
 * and Polystore at 1 tenant, then each tenant count, the naive baseline and the database
 * placements right after Polystore at their tenant count.
 */
async function runScenarios({ settings, limits, tenants, databaseTenants }) {
  const scenarios = [];
  const run = async (measure) => {
    scenarios.push(await measure());
    throwIfAborted();
  };
  const naiveTenants = tenants.slice(0, settings.naiveTenants);
  let naiveDone = settings.naiveTenants === 0;
  let databaseDone = databaseTenants.length === 0;
  await run(() => measureFloor({ settings, tenant: tenants[0] }));
  for (const count of settings.tenantCounts) {
    await run(() => measurePolystore({ settings, limits, tenants: tenants.slice(0, count), placement: 'schema' }));
    if (count === 1 && settings.capVariant && limits.sharedPool > limits.tenantCap) {
      await run(() =>
        measurePolystore({ settings, limits, tenants: tenants.slice(0, 1), placement: 'schema', variant: 'cap' }),
      );
    }
    if (!naiveDone && count >= settings.naiveTenants) {
      await run(() => measureNaive({ settings, tenants: naiveTenants }));
      naiveDone = true;
    }
    if (!databaseDone && count >= databaseTenants.length) {
      await run(() => measurePolystore({ settings, limits, tenants: databaseTenants, placement: 'database' }));
      databaseDone = true;
    }
  }
  return scenarios;
}

/** The pids of the running apps, for CPU accounting. */
function appPids() {
  const pids = {};
  for (const name of ['gateway', 'secure', 'reliable', 'edge'])
    if (state[name]?.isRunning) pids[name] = state[name].pid;
  return pids;
}

/** Creates the tenants of one group, timed, with the CPU each process spent per tenant. */
async function createGroup({ settings, prefix, count, placements, label }) {
  log(`\n${label}: creating ${count} tenant(s), ${settings.adminConcurrency} at a time ...`);
  const pids = appPids();
  const cpuBefore = cpuSnapshot(pids);
  const { tenants, timing } = await createTenants({
    adminPort: state.gateway.adminPort,
    settings,
    slugs: tenantSlugs(prefix, settings.runId, count),
    placements,
    created: state.createdTenants,
    signal: state.abort.signal,
    log,
    label,
  });
  timing.cpu = cpuBetween(cpuBefore, cpuSnapshot(pids), count);
  throwIfAborted();
  log(`  ${timing.tenantsPerSecond} tenants/s (p50 ${timing.latencyMs.p50} ms, p99 ${timing.latencyMs.p99} ms)`);
  return { tenants, timing };
}

/**
 * Provisioning with every store running: the reliable (MariaDB) and edge stores are started
 * (MQTT off), the gateway restarted with STORES=secure,reliable,edge, and
 * BENCH_ALL_STORES_TENANTS tenants created, timed. The gateway keeps running with every store, so
 * cleanup deletes every tenant in every store.
 */
async function measureAllStoresProvisioning(settings) {
  log('\nstarting the reliable and edge stores, and a gateway running all three stores ...');
  state.reliable = await startReliableStore(settings, state.logDir);
  state.edge = await startEdgeStore(settings, state.logDir);
  await state.gateway.stop();
  state.gateway = await startGateway(settings, state.logDir, ['secure', 'reliable', 'edge']);
  const { tenants, timing } = await createGroup({
    settings,
    prefix: 'bencha',
    count: settings.allStoresTenants,
    label: 'all stores',
  });
  const placements = await listPlacements({ adminPort: state.gateway.adminPort, settings });
  for (const tenant of tenants) state.placements.push(...(placements.get(tenant.slug) ?? []));
  const kinds = {};
  for (const p of placements.get(tenants[0].slug) ?? []) kinds[p.store] = p.kind;
  return { ...timing, stores: ['secure', 'reliable', 'edge'], kinds };
}

/** Deletes the tenants, stops every process, drops what the bench catalog still lists. Never throws. */
async function cleanup(settings) {
  const step = async (what, work) => {
    try {
      await work();
    } catch (error) {
      log(`cleanup: ${what} failed: ${error.message}`);
    }
  };
  stopLoad();
  await step('stopping the connection sampler', () => state.sampler?.stop());
  if (state.createdTenants.size > 0 && state.gateway?.isRunning && state.secure?.isRunning) {
    log(`\ndeleting ${state.createdTenants.size} tenant(s) through the admin API ...`);
    await step('deleting tenants', async () => {
      const failed = await deleteTenants({
        adminPort: state.gateway.adminPort,
        settings,
        slugs: [...state.createdTenants],
        log,
      });
      if (failed.length > 0)
        log(`  ${failed.length} could not be deleted through the API; what they left is dropped directly`);
    });
  }
  await step('stopping processes', () => stopAll());
  await step('dropping leftovers', async () => {
    const listed = await dropBenchLeftovers(settings);
    const seen = await dropPlacements(settings, state.placements);
    const schemas = (listed?.schemas ?? 0) + seen.schemas;
    const databases = (listed?.databases ?? 0) + seen.databases;
    if (schemas + databases > 0)
      log(`dropped ${schemas} leftover schema(s) and ${databases} leftover database(s) directly`);
    else if (state.placements.length > 0)
      log(`checked: none of the run's ${state.placements.length} placements is left`);
  });
}

/** The settings as written to the results: without this run's secrets. */
function publicSettings(settings) {
  const copy = { ...settings };
  delete copy.masterKey;
  delete copy.deviceBrokerKey;
  delete copy.adminToken;
  return copy;
}

const loadAverage = () => os.loadavg().map((n) => Math.round(n * 100) / 100);

async function main() {
  const settings = readSettings();
  const startedAt = new Date().toISOString();
  const maxTenants = settings.tenantCounts.at(-1);
  log(
    `Polystore read-customer benchmark (run ${settings.runId}): tenants ${settings.tenantCounts.join(', ')}, ` +
      `${settings.connections} connections, ${settings.warmupS} s warm-up + ${settings.durationS} s per scenario`,
  );
  if (settings.appsRoot !== ROOT) log(`built apps from ${settings.appsRoot}`);
  state.logDir = mkdtempSync(join(tmpdir(), 'polystore-bench-'));
  log(`process logs: ${state.logDir}`);
  installSignalHandlers();
  let succeeded = false;
  try {
    await preflight(settings);
    const machine = await machineInfo(settings.pgServerUrl, settings.appsRoot);
    const limits = effectiveSecureLimits(settings.secure, {
      max_connections: machine.postgresMaxConnections,
      superuser_reserved_connections: machine.postgresSuperuserReserved,
    });
    log(
      `secure store on this server: budget ${limits.budget} connections, shared pool ${limits.sharedPool}, tenant cap ${limits.tenantCap}`,
    );
    machine.catalogs = await vacuumChurnedCatalogs(settings.pgServerUrl, ['polystore_secure', 'polystore_edge']);
    if (machine.catalogs.vacuumed)
      log(
        `autovacuum is off: vacuumed the system catalogs first (${machine.catalogs.bytesBefore} bytes, then ${machine.catalogs.bytesAfter})`,
      );
    // Other work on the machine skews every number: say so in the results.
    machine.busyShareBeforeStart = await machineBusyShare(2_000);
    if (machine.busyShareBeforeStart > 0.2)
      log(`warning: the machine was ${Math.round(machine.busyShareBeforeStart * 100)}% busy before the run started`);
    state.gateway = await startGateway(settings, state.logDir);
    state.secure = await startSecureStore(settings, state.logDir);
    log(
      `gateway on :${state.gateway.port} (admin port :${state.gateway.adminPort}), secure store metrics on :${state.secure.port}`,
    );

    const provisioning = {};
    let databaseTenants = [];
    if (settings.databaseTenants > 0) {
      // First, on a store that has not opened its shared pool yet: the shared pool reserves
      // min(20, budget) connections of the server's budget for as long as the store runs, and
      // with the default budget on a max_connections=100 server (21) that leaves less than a
      // database placement's own pool (2), so provisioning or reading one would end in
      // STORE_BUSY (see bench/README.md). The store is restarted afterwards.
      const group = await createGroup({
        settings,
        prefix: 'benchd',
        count: settings.databaseTenants,
        placements: [{ store: 'secure', kind: 'database' }],
        label: 'secure store, database placements',
      });
      provisioning.secureDatabase = { ...group.timing, stores: ['secure'], kinds: { secure: 'database' } };
      databaseTenants = group.tenants;
      await createCustomers({
        gatewayPort: state.gateway.port,
        settings,
        tenants: databaseTenants,
        signal: state.abort.signal,
        log,
      });
      await restartSecureStore(settings);
    }
    const schemaGroup = await createGroup({ settings, prefix: 'bench', count: maxTenants, label: 'secure store' });
    provisioning.secure = { ...schemaGroup.timing, stores: ['secure'], kinds: { secure: 'schema' } };
    const tenants = schemaGroup.tenants;
    log('');
    await createCustomers({ gatewayPort: state.gateway.port, settings, tenants, signal: state.abort.signal, log });
    const placements = await listPlacements({ adminPort: state.gateway.adminPort, settings });
    state.placements.push(...[...placements.values()].flat());
    attachSecurePlacements([...tenants, ...databaseTenants], placements);
    throwIfAborted();

    const names = connectionNames(settings);
    state.sampler = new ConnectionSampler({
      serverUrl: settings.pgServerUrl,
      everyMs: settings.sampleEveryMs,
      ourNames: names.ours,
    });
    await state.sampler.start();
    machine.loadAverageBeforeScenarios = loadAverage();
    const scenarios = await runScenarios({ settings, limits, tenants, databaseTenants });
    machine.loadAverageAfterScenarios = loadAverage();

    if (settings.allStoresTenants > 0) provisioning.allStores = await measureAllStoresProvisioning(settings);
    machine.loadAverageAtEnd = loadAverage();

    const run = {
      benchmark: 'read-customer',
      startedAt,
      finishedAt: new Date().toISOString(),
      settings: publicSettings(settings),
      limits,
      machine,
      scenarios,
      provisioning,
    };
    const files = writeResults(run, process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results'));
    log(`\n${renderConsoleTable(run)}\n\nwrote ${files.md}\n      ${files.json}`);
    succeeded = true;
  } catch (error) {
    log(state.abort.signal.aborted ? '\ninterrupted' : `\nbenchmark failed: ${error.stack ?? error}`);
  } finally {
    await cleanup(settings);
    // The apps wrote their profiles as they exited.
    if (PROFILE_DIR) summarizeProfiles(PROFILE_DIR);
    if (succeeded) rmSync(state.logDir, { recursive: true, force: true });
    else log(`process logs kept in ${state.logDir}`);
  }
  process.exitCode = succeeded ? 0 : state.abort.signal.aborted ? 130 : 1;
}

await main();
