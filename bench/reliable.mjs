#!/usr/bin/env node
// Idempotent device creation on the reliable store (MariaDB), across many tenants.
//
// Starts the reliable store and a gateway (to provision tenants through the admin API), creates
// BENCH_RELIABLE_TENANTS tenants (default 50), then drives `reliable.devices.create` over NATS
// (device creation over HTTP is a saga, not this benchmark) with BENCH_CONNECTIONS concurrent
// clients (default 50), each picking a tenant at random, in two scenarios measured back to back:
//   once:  every create has a fresh idempotency key;
//   twice: every create is sent twice with the same key, one after the other (the second is a
//          replay answered from the stored result).
// Then counts the device rows in each tenant's reliable placement (as GET /admin/tenants lists it:
// on MariaDB a database `ps_reliable_<tenant id hex>` each) against the creates acknowledged.
// Writes bench/results/<stamp>-reliable-creates.{json,md} and latest-reliable-creates.md. At the
// end the tenants are deleted through the admin API; whatever the run's catalog
// (polystore_bench_reliable_system) still lists is dropped directly, then the catalog (also at the
// start, after a run that could not clean up).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats, Contracts, MessageClient } from '#polystore/messaging';
import { runAsTenant } from '#polystore/tenancy';
import { mapLimit } from './lib/concurrency.mjs';
import { ROOT, envInt as int } from './lib/config.mjs';
import { expectStatus, request } from './lib/http.mjs';
import { dropBenchLeftovers, dropRunLeftovers, leftoversMessage } from './lib/leftovers.mjs';
import { machineInfo } from './lib/machine.mjs';
import { databaseUrl } from './lib/pg.mjs';
import { startApp, stopAll } from './lib/processes.mjs';
import { fileStamp } from './lib/report.mjs';
import { countRows, placementOf } from './lib/tenant-data.mjs';
import { listPlacements } from './lib/tenants.mjs';
import { contextEnv, contextSigner } from './lib/context-key.mjs';

const log = (message) => console.log(message);

const settings = {
  runId: randomBytes(3)
    .toString('hex')
    .replace(/^[0-9]/, 'r'),
  tenants: int('BENCH_RELIABLE_TENANTS', 50),
  connections: int('BENCH_CONNECTIONS', 50),
  durationS: int('BENCH_DURATION_S', 20),
  warmupS: int('BENCH_WARMUP_S', 3),
  pgServerUrl: process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432',
  mariadbUrl: process.env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  catalogDatabase: 'polystore_bench_reliable_system',
  baseDomain: 'bench.test',
  adminToken: `bench-admin-${randomBytes(18).toString('base64url')}`,
  masterKey: randomBytes(32).toString('base64'),
};
const prefix = `benchr${settings.runId}`;

function env(extra) {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    SYSTEM_DB_URL: databaseUrl(settings.pgServerUrl, settings.catalogDatabase),
    RELIABLE_SERVER_URL: settings.mariadbUrl,
    NATS_URL: settings.natsUrl,
    NATS_SUBJECT_PREFIX: prefix,
    MASTER_KEY: settings.masterKey,
    ...contextEnv,
    ...extra,
  };
}

/** p-th percentile (0..100) of sorted numbers. */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * `connections` clients loop for `seconds`: each iteration is one logical create on a random
 * tenant, sent `sends` times with one key. Returns per-send latencies and counts.
 */
async function drive(client, tenants, { seconds, sends, record }) {
  const deadline = Date.now() + seconds * 1000;
  const first = [];
  const replays = [];
  let logical = 0;
  let errors = 0;
  const errorCodes = {};
  await Promise.all(
    Array.from({ length: settings.connections }, async () => {
      while (Date.now() < deadline) {
        const tenant = tenants[Math.floor(Math.random() * tenants.length)];
        const key = `bench-${randomUUID()}`;
        const payload = { idempotencyKey: key, name: 'Bench meter', model: 'BM-1' };
        let id = null;
        try {
          for (let i = 0; i < sends; i++) {
            const started = performance.now();
            const device = await runAsTenant(
              tenant,
              () => client.request(Contracts.reliable.devices.create, payload),
              10_000,
            );
            const ms = performance.now() - started;
            if (record) (i === 0 ? first : replays).push(ms);
            if (id !== null && device.id !== id) throw new Error('a replay answered another device');
            id = device.id;
          }
          if (record) logical++;
        } catch (error) {
          if (record) {
            errors++;
            const code = error?.code ?? 'ERROR';
            errorCodes[code] = (errorCodes[code] ?? 0) + 1;
          }
        }
      }
    }),
  );
  const summary = (list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  return {
    logical,
    perSecond: logical / seconds,
    errors,
    errorCodes,
    first: summary(first),
    replays: summary(replays),
  };
}

/** Device rows in the tenants' reliable placements (`{ store, kind, server, database, schema? }`). */
async function countDevices(placements) {
  const counts = await countRows(settings, placements, 'devices');
  return counts.reduce((a, b) => a + b, 0);
}

function renderMarkdown(run) {
  const fmt = (n, digits = 1) => (n === null ? '–' : n.toFixed(digits));
  const rows = run.scenarios.map(
    (s) =>
      `| ${s.id} | ${run.settings.tenants} | ${fmt(s.perSecond)} | ${fmt(s.first.p50)} | ${fmt(s.first.p99)} | ${fmt(s.replays.p50)} | ${fmt(s.replays.p99)} | ${s.errors} |`,
  );
  const [once, twice] = run.scenarios;
  return `# Idempotent device creates on MariaDB

Run ${run.startedAt} on ${run.machine.cpus}, ${run.machine.memory}, Node ${run.machine.node}; MariaDB at ${settings.mariadbUrl.replace(/\/\/.*@/, '//')}.
${run.settings.connections} concurrent clients over NATS (\`reliable.devices.create\`), ${run.settings.tenants} tenants chosen at random per create, ${run.settings.durationS} s measured per scenario after ${run.settings.warmupS} s of warm-up.

| scenario | tenants | creates/s | p50 ms (first send) | p99 ms (first send) | p50 ms (replay) | p99 ms (replay) | errors |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

**Cost of idempotency** (every request sent twice vs once): ${fmt(once.perSecond / twice.perSecond, 2)}× fewer creates per second; a replay is answered in ${fmt(twice.replays.p50)} ms at p50 against ${fmt(twice.first.p50)} ms for the create it repeats (${fmt(twice.replays.p50 / twice.first.p50, 2)}×). Devices in the tenants' databases after the run: ${run.devicesStored}, creates acknowledged: ${run.acknowledged} (every acknowledged create stored exactly once: ${run.devicesStored === run.acknowledged ? 'yes' : 'NO'}).

Each create is one MariaDB transaction in the tenant's database: claim the idempotency key, insert the device, insert its outbox event, store the result; a replay is one primary-key read of the stored result. The outbox relay publishes the events to JetStream during the run (its cost is included).
`;
}

async function main() {
  const logDir = mkdtempSync(join(tmpdir(), 'polystore-bench-reliable-'));
  const slugs = Array.from(
    { length: settings.tenants },
    (_, i) => `benchr-${settings.runId}-${String(i + 1).padStart(3, '0')}`,
  );
  const created = [];
  /** Every placement GET /admin/tenants listed for this run's tenants: checked and dropped at the end. */
  const seen = [];
  let gateway;
  let nc;
  try {
    log(
      `reliable-creates: run ${settings.runId}, ${settings.tenants} tenants, ${settings.connections} clients, ${settings.durationS} s`,
    );
    const earlier = await dropBenchLeftovers(settings);
    if (earlier)
      log(
        `dropped what an earlier run left: its catalog (${earlier.listed} placement(s) listed), ${earlier.schemas} schema(s), ${earlier.databases} database(s)`,
      );
    await startApp({
      name: 'reliable-store',
      script: 'dist/apps/reliable-store/src/main.js',
      logDir,
      env: env({ RELIABLE_HTTP_PORT: '0', INSTANCE_ID: `${prefix}-reliable` }),
    });
    gateway = await startApp({
      name: 'gateway',
      script: 'dist/apps/gateway/src/main.js',
      logDir,
      env: env({
        ADMIN_TOKEN: settings.adminToken,
        BASE_DOMAIN: settings.baseDomain,
        GATEWAY_PORT: '0',
        ADMIN_PORT: '0',
        STORES: 'reliable',
        INSTANCE_ID: `${prefix}-gateway`,
      }),
    });
    log(`creating ${settings.tenants} tenants ...`);
    const outcomes = await mapLimit(slugs, 4, async (slug) => {
      await expectStatus(201, {
        port: gateway.adminPort,
        host: settings.baseDomain,
        token: settings.adminToken,
        method: 'POST',
        path: '/admin/tenants',
        body: { slug, name: slug },
      });
      created.push(slug);
    });
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length > 0)
      throw new Error(`${failed.length} tenants could not be created; first: ${failed[0].error.message}`);
    // Where each tenant's devices are: its reliable placement, as the admin API lists it.
    const placementsBySlug = await listPlacements({ adminPort: gateway.adminPort, settings });
    for (const slug of created) seen.push(...(placementsBySlug.get(slug) ?? []));
    const reliablePlacements = created.map((slug) => placementOf(placementsBySlug.get(slug), 'reliable', slug));
    const kinds = [...new Set(reliablePlacements.map((p) => p.kind))];
    log(`  reliable placements: ${kinds.join(', ')} (e.g. ${reliablePlacements[0].database})`);

    nc = await connectNats({ url: settings.natsUrl, name: 'bench-reliable' });
    const client = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 10_000, signer: contextSigner });
    const scenarios = [];
    let acknowledged = 0;
    for (const [id, sends] of [
      ['once', 1],
      ['twice', 2],
    ]) {
      log(`▶ ${id}: warm-up ${settings.warmupS} s, then ${settings.durationS} s`);
      const warm = await drive(client, created, { seconds: settings.warmupS, sends, record: true });
      acknowledged += warm.logical;
      const result = await drive(client, created, { seconds: settings.durationS, sends, record: true });
      acknowledged += result.logical;
      scenarios.push({ id, sends, ...result });
      log(
        `  ${result.perSecond.toFixed(1)} creates/s, p50 ${result.first.p50?.toFixed(1)} ms, p99 ${result.first.p99?.toFixed(1)} ms, errors ${result.errors}`,
      );
    }
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
      scenarios,
      acknowledged,
      devicesStored: await countDevices(reliablePlacements),
    };
    const dir = join(ROOT, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const stamp = fileStamp(new Date());
    writeFileSync(join(dir, `${stamp}-reliable-creates.json`), `${JSON.stringify(run, null, 2)}\n`);
    const markdown = renderMarkdown(run);
    writeFileSync(join(dir, `${stamp}-reliable-creates.md`), markdown);
    writeFileSync(join(dir, 'latest-reliable-creates.md'), markdown);
    log(`\n${markdown}`);
  } finally {
    await nc?.drain().catch(() => undefined);
    if (gateway?.isRunning) {
      log(`deleting ${created.length} tenants ...`);
      await mapLimit(created, 4, (slug) =>
        request({
          port: gateway.adminPort,
          host: settings.baseDomain,
          token: settings.adminToken,
          method: 'DELETE',
          path: `/admin/tenants/${slug}`,
        }),
      );
    }
    await stopAll();
    await dropRunLeftovers(settings, seen)
      .then((result) => log(leftoversMessage(result, seen.length)))
      .catch((error) => log(`cleanup: dropping leftovers failed: ${error.message}`));
    rmSync(logDir, { recursive: true, force: true });
  }
}

await main();
