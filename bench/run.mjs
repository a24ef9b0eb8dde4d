#!/usr/bin/env node
// `npm run bench` (after `npm run build`): reading one customer through Polystore, side by side
// with the floor (a plain Nest + TypeORM app), in one run on one machine state.
//
// 1. starts the gateway and the secure store (built apps, real processes, bench-only catalog,
//    NATS prefix and instance ids);
// 2. creates max(BENCH_TENANTS) tenants through the admin API, one customer each;
// 3. measures, with autocannon (BENCH_CONNECTIONS connections, warm-up, BENCH_DURATION_S s):
//    the floor on tenant 1's database; Polystore with 1 tenant; Polystore with 1 tenant and
//    SECURE_DB_POOL_SIZE=10; Polystore with each larger tenant count;
// 4. writes bench/results/<stamp>-read-customer.{json,md} and latest-read-customer.md;
// 5. always (also on Ctrl-C or an error): deletes its tenants, stops its processes, drops the
//    bench catalog and any database of its tenants that is left.
// See bench/README.md.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, readSettings } from './lib/config.mjs';
import { machineBusyShare } from './lib/cpu.mjs';
import { stopLoad } from './lib/load.mjs';
import { machineInfo } from './lib/machine.mjs';
import { ConnectionSampler, databasesMatching, dropDatabases } from './lib/pg.mjs';
import { killAll, stopAll } from './lib/processes.mjs';
import { renderConsoleTable, writeResults } from './lib/report.mjs';
import { measureScenario } from './lib/scenario.mjs';
import {
  connectionNames,
  FLOOR_SCRIPT,
  GATEWAY_SCRIPT,
  SECURE_STORE_SCRIPT,
  startFloor,
  startGateway,
  startSecureStore,
} from './lib/stack.mjs';
import { createTenants, deleteTenants } from './lib/tenants.mjs';

const log = (message) => console.log(message);

/** What cleanup needs to know, whatever step the run stopped at. */
const state = {
  abort: new AbortController(),
  logDir: null,
  gateway: null,
  secure: null,
  sampler: null,
  createdTenants: new Set(),
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
    log('forced exit: processes killed; leftover bench databases are dropped at the start of the next run');
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
  for (const script of [GATEWAY_SCRIPT, SECURE_STORE_SCRIPT, FLOOR_SCRIPT]) {
    if (!existsSync(join(ROOT, script)))
      throw new Error(`${script} is missing: run \`npm run build\` first (\`npm run bench\` does)`);
  }
  await checkTcp(settings.natsUrl, 4222);
  const leftovers = await databasesMatching(
    settings.pgServerUrl,
    '^(polystore_bench_system|ps_secure_bench_[a-z0-9]+_[0-9]+)$',
  );
  if (leftovers.length > 0) {
    log(`dropping ${leftovers.length} database(s) left by an interrupted earlier run`);
    await dropDatabases(settings.pgServerUrl, leftovers);
  }
}

/** The load's request for each tenant: its Host, key and customer. */
function polystoreTargets(tenants) {
  return tenants.map((t) => ({ host: t.host, token: t.apiKey, path: `/v1/customers/${t.customerId}` }));
}

/**
 * Runs one Polystore scenario on the first `count` tenants. The secure store is restarted first
 * (with the scenario's pool size), so every scenario starts from a cold store that holds no
 * DataSource of another scenario (or of the setup), and its warm-up brings it to steady state.
 */
async function measurePolystore({ settings, tenants, count, variant }) {
  const poolSize = variant === 'pool' ? settings.poolVariantSize : settings.secure.poolSize;
  const id = `polystore-${count}${variant === 'pool' ? `-pool${poolSize}` : ''}`;
  log(`\n▶ ${id}: Polystore, ${count} tenant(s), SECURE_DB_POOL_SIZE=${poolSize}`);
  await restartSecureStore(settings, poolSize);
  return measureScenario({
    settings,
    sampler: state.sampler,
    port: state.gateway.port,
    targets: polystoreTargets(tenants.slice(0, count)),
    pids: { gateway: state.gateway.pid, secure: state.secure.pid },
    scrapeFrom: { gatewayPort: state.gateway.port, adminHost: settings.baseDomain, securePort: state.secure.port },
    sessionsOf: `^ps_secure_bench_${settings.runId}_`,
    describe: {
      id,
      kind: 'polystore',
      variant: variant ?? null,
      label: variant === 'pool' ? `Polystore, tenant pool ${poolSize}` : 'Polystore',
      tenants: count,
      poolSize,
      budget: settings.secure.connectionBudget,
    },
    log,
    signal: state.abort.signal,
  });
}

/** Runs the floor on tenant 1's secure database, then stops it. */
async function measureFloor({ settings, tenant }) {
  log(`\n▶ floor: Nest + TypeORM, one DataSource on ${tenant.database}`);
  // A fresh secure store: the DataSources the setup opened would otherwise sit beside the floor.
  await restartSecureStore(settings, settings.secure.poolSize);
  const floor = await startFloor(settings, state.logDir, tenant.database);
  try {
    return await measureScenario({
      settings,
      sampler: state.sampler,
      port: floor.port,
      targets: [{ host: `127.0.0.1:${floor.port}`, path: `/customers/${tenant.customerId}` }],
      pids: { floor: floor.pid, gateway: state.gateway.pid, secure: state.secure.pid },
      scrapeFrom: null,
      sessionsOf: `^${tenant.database}$`,
      describe: {
        id: 'floor',
        kind: 'floor',
        variant: null,
        label: 'Floor (Nest + TypeORM)',
        tenants: 1,
        poolSize: settings.baselinePoolSize,
        budget: null,
      },
      log,
      signal: state.abort.signal,
    });
  } finally {
    await floor.stop();
  }
}

/** Replaces the running secure store by one with `poolSize` connections per tenant DataSource. */
async function restartSecureStore(settings, poolSize) {
  await state.secure.stop();
  state.secure = await startSecureStore(settings, state.logDir, poolSize);
}

/** The scenarios, in an order that keeps the 1-tenant comparisons next to each other in time. */
async function runScenarios(settings, tenants) {
  const scenarios = [await measureFloor({ settings, tenant: tenants[0] })];
  throwIfAborted();
  for (const count of settings.tenantCounts) {
    scenarios.push(await measurePolystore({ settings, tenants, count }));
    throwIfAborted();
    if (count === 1 && settings.poolVariant) {
      scenarios.push(await measurePolystore({ settings, tenants, count, variant: 'pool' }));
      throwIfAborted();
    }
  }
  return scenarios;
}

/** Deletes the tenants, stops every process, drops the bench databases. Never throws. */
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
    log(`\ndeleting ${state.createdTenants.size} tenant(s) ...`);
    await step('deleting tenants', async () => {
      const failed = await deleteTenants({
        gatewayPort: state.gateway.port,
        settings,
        slugs: [...state.createdTenants],
        log,
      });
      if (failed.length > 0)
        log(`  ${failed.length} could not be deleted through the API; their databases are dropped directly`);
    });
  }
  await step('stopping processes', () => stopAll());
  await step('dropping databases', async () => {
    const leftovers = await databasesMatching(settings.pgServerUrl, `^ps_secure_bench_${settings.runId}_[0-9]+$`);
    if (leftovers.length > 0) log(`dropping ${leftovers.length} leftover tenant database(s)`);
    await dropDatabases(settings.pgServerUrl, [...leftovers, settings.catalogDatabase]);
  });
}

/** The settings as written to the results: without this run's secrets. */
function publicSettings(settings) {
  const copy = { ...settings };
  delete copy.masterKey;
  delete copy.adminToken;
  return copy;
}

async function main() {
  const settings = readSettings();
  const startedAt = new Date().toISOString();
  const maxTenants = settings.tenantCounts[settings.tenantCounts.length - 1];
  log(
    `Polystore read-customer benchmark (run ${settings.runId}): tenants ${settings.tenantCounts.join(', ')}, ` +
      `${settings.connections} connections, ${settings.warmupS} s warm-up + ${settings.durationS} s per scenario`,
  );
  state.logDir = mkdtempSync(join(tmpdir(), 'polystore-bench-'));
  log(`process logs: ${state.logDir}`);
  installSignalHandlers();
  let succeeded = false;
  try {
    await preflight(settings);
    const machine = await machineInfo(settings.pgServerUrl);
    // Other work on the machine skews every number: say so in the results.
    machine.busyShareBeforeStart = await machineBusyShare(2_000);
    if (machine.busyShareBeforeStart > 0.2)
      log(`warning: the machine was ${Math.round(machine.busyShareBeforeStart * 100)}% busy before the run started`);
    state.gateway = await startGateway(settings, state.logDir);
    state.secure = await startSecureStore(settings, state.logDir, settings.secure.poolSize);
    log(`gateway on :${state.gateway.port}, secure store metrics on :${state.secure.port}`);

    log(`\ncreating ${maxTenants} tenant(s), ${settings.adminConcurrency} at a time ...`);
    const tenants = await createTenants({
      gatewayPort: state.gateway.port,
      settings,
      count: maxTenants,
      created: state.createdTenants,
      signal: state.abort.signal,
      log,
    });
    throwIfAborted();

    const names = connectionNames(settings);
    state.sampler = new ConnectionSampler({
      serverUrl: settings.pgServerUrl,
      everyMs: settings.sampleEveryMs,
      tenantPoolName: names.tenantPool,
      ourNames: names.ours,
    });
    await state.sampler.start();
    const scenarios = await runScenarios(settings, tenants);

    const run = {
      benchmark: 'read-customer',
      startedAt,
      finishedAt: new Date().toISOString(),
      settings: publicSettings(settings),
      machine,
      scenarios,
    };
    const files = writeResults(run, process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results'));
    log(`\n${renderConsoleTable(run)}\n\nwrote ${files.md}\n      ${files.json}`);
    succeeded = true;
  } catch (error) {
    log(state.abort.signal.aborted ? '\ninterrupted' : `\nbenchmark failed: ${error.stack ?? error}`);
  } finally {
    await cleanup(settings);
    if (succeeded) rmSync(state.logDir, { recursive: true, force: true });
    else log(`process logs kept in ${state.logDir}`);
  }
  process.exitCode = succeeded ? 0 : state.abort.signal.aborted ? 130 : 1;
}

await main();
