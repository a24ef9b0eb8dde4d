// One measured scenario: sanity request, one request per tenant (priming), warm-up (not
// recorded), measured window, and what happened around it (PostgreSQL connections, CPU per process, the apps' own counters).
import os from 'node:os';
import { mapLimit } from './concurrency.mjs';
import { cpuBetween, cpuSnapshot } from './cpu.mjs';
import { request } from './http.mjs';
import { runLoad } from './load.mjs';
import { metricsBetween, scrape } from './metrics.mjs';

/** Fails early if the request the load will repeat does not answer 200 (a 401 storm would look fast). */
async function checkTarget(port, target) {
  const response = await request({
    port,
    host: target.host,
    path: target.path,
    token: target.token,
    timeoutMs: 15_000,
  });
  if (response.status !== 200)
    throw new Error(
      `sanity request GET ${target.path} (Host ${target.host}) answered ${response.status}: ${response.text.slice(0, 300)}`,
    );
}

/**
 * Requests every target once (`concurrency` at a time) before the warm-up, so that every tenant
 * of the scenario is warm (its placement and API key in the caches, its data key unwrapped, its
 * DataSource open in the naive app) whatever the tenant count: with 1,000 tenants a warm-up of a
 * few seconds at a few hundred requests per second would leave many of them cold.
 */
async function prime(port, targets, concurrency, signal) {
  const started = Date.now();
  const outcomes = await mapLimit(
    targets,
    concurrency,
    async (target) => {
      const response = await request({ port, host: target.host, path: target.path, token: target.token });
      if (response.status !== 200) throw new Error(`${response.status} ${response.text.slice(0, 200)}`);
    },
    { signal },
  );
  const failed = outcomes.filter((o) => o && !o.ok);
  return {
    targets: targets.length,
    ms: Date.now() - started,
    failed: failed.length,
    firstFailure: failed[0]?.error.message ?? null,
  };
}

/** Scrapes the gateway (its admin port, on the admin host) and the secure store, when they are part of the scenario. */
async function scrapeAll(scrapeFrom) {
  if (!scrapeFrom) return null;
  const [gateway, secure] = await Promise.all([
    scrape(scrapeFrom.adminPort, scrapeFrom.adminHost),
    scrape(scrapeFrom.securePort),
  ]);
  return { gateway, secure };
}

/**
 * Runs one scenario.
 * - `targets`: `[{ host, path, token? }]`, one picked uniformly at random per request;
 * - `pids`: `{ component: pid }` whose CPU is accounted;
 * - `scrapeFrom`: `{ adminPort, adminHost, securePort }` for Polystore scenarios (the gateway's
 *   metrics are on its admin port);
 * - `poolNames`: application_name prefixes of the scenario's tenant connections (sampled);
 * - `sessionsOf`: a regular expression naming databases of this scenario alone whose new
 *   connections are counted from pg_stat_database (null: none, e.g. the shared database);
 * - `describe`: fields copied into the result (id, label, tenants, budget, ...).
 */
export async function measureScenario({
  settings,
  sampler,
  port,
  targets,
  pids,
  scrapeFrom,
  poolNames,
  sessionsOf = null,
  describe,
  log,
  signal,
}) {
  sampler.track(poolNames);
  await checkTarget(port, targets[0]);
  const load = { port, targets, connections: settings.connections };
  let primed = null;
  if (targets.length > 1) {
    log(`  priming: one request per tenant (${targets.length}) ...`);
    primed = await prime(port, targets, settings.connections, signal);
    if (primed.failed > 0) log(`  priming: ${primed.failed} request(s) failed, first: ${primed.firstFailure}`);
  }

  log(`  warm-up ${settings.warmupS} s ...`);
  const warmup = await runLoad({ ...load, durationS: settings.warmupS });
  const warmupConnections = sampler.takeWindow();
  if (signal.aborted) throw new Error('interrupted');

  const metricsBefore = await scrapeAll(scrapeFrom);
  const sessionsBefore = sessionsOf ? await sampler.sessions(sessionsOf) : null;
  const cpuBefore = cpuSnapshot(pids);
  sampler.takeWindow(); // the window starts now
  log(`  measuring ${settings.durationS} s ...`);
  const measured = await runLoad({ ...load, durationS: settings.durationS });
  const connections = sampler.takeWindow();
  const cpu = cpuBetween(cpuBefore, cpuSnapshot(pids), measured.requests);
  const metricsAfter = await scrapeAll(scrapeFrom);
  const sessionsAfter = sessionsOf ? await sampler.sessions(sessionsOf) : null;
  if (signal.aborted) throw new Error('interrupted');
  // pg_stat_database is updated by backends about once a second: a close estimate over the window.
  connections.tenantDatabaseConnectionsOpened =
    sessionsBefore === null || sessionsAfter === null ? null : sessionsAfter - sessionsBefore;

  return {
    ...describe,
    load: measured,
    connections,
    cpu,
    metrics: metricsBefore && metricsAfter ? metricsBetween(metricsBefore, metricsAfter) : null,
    warmup: { primed, load: warmup, connections: warmupConnections },
    /** The 1, 5 and 15-minute load averages at the end of the measured window. */
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}
