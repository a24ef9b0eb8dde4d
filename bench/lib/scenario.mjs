// One measured scenario: sanity request, warm-up (not recorded), measured window, and what
// happened around it (PostgreSQL connections, CPU per process, the apps' own counters).
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

/** Scrapes the gateway (on the admin host) and the secure store, when they are part of the scenario. */
async function scrapeAll(scrapeFrom) {
  if (!scrapeFrom) return null;
  const [gateway, secure] = await Promise.all([
    scrape(scrapeFrom.gatewayPort, scrapeFrom.adminHost),
    scrape(scrapeFrom.securePort),
  ]);
  return { gateway, secure };
}

/**
 * Runs one scenario.
 * - `targets`: `[{ host, path, token? }]`, one picked uniformly at random per request;
 * - `pids`: `{ component: pid }` whose CPU is accounted;
 * - `scrapeFrom`: `{ gatewayPort, adminHost, securePort }` for Polystore scenarios;
 * - `sessionsOf`: a regular expression naming the tenant databases whose new connections are counted;
 * - `describe`: fields copied into the result (id, label, tenants, budget, ...).
 */
export async function measureScenario({
  settings,
  sampler,
  port,
  targets,
  pids,
  scrapeFrom,
  sessionsOf,
  describe,
  log,
  signal,
}) {
  await checkTarget(port, targets[0]);
  const load = { port, targets, connections: settings.connections };

  log(`  warm-up ${settings.warmupS} s ...`);
  const warmup = await runLoad({ ...load, durationS: settings.warmupS });
  const warmupConnections = sampler.takeWindow();
  if (signal.aborted) throw new Error('interrupted');

  const metricsBefore = await scrapeAll(scrapeFrom);
  const sessionsBefore = await sampler.sessions(sessionsOf);
  const cpuBefore = cpuSnapshot(pids);
  sampler.takeWindow(); // the window starts now
  log(`  measuring ${settings.durationS} s ...`);
  const measured = await runLoad({ ...load, durationS: settings.durationS });
  const connections = sampler.takeWindow();
  const cpu = cpuBetween(cpuBefore, cpuSnapshot(pids), measured.requests);
  const metricsAfter = await scrapeAll(scrapeFrom);
  const sessionsAfter = await sampler.sessions(sessionsOf);
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
    warmup: { load: warmup, connections: warmupConnections },
  };
}
