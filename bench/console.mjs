#!/usr/bin/env node
// The operations console's tenants page with 10,000 tenants (issue 19: "the tenants page with
// 10,000 tenants in under a second on this machine").
//
// Starts a gateway (and the three stores, so the page's per-store health is the real one; no
// device broker) on a catalog of its own (polystore_bench_console_system), then seeds
// BENCH_CONSOLE_TENANTS tenants (default 10,000) straight into it in one SQL statement, each with
// its three placements (secure and edge: a schema on PostgreSQL, reliable: a database on MariaDB;
// nothing is created in the stores: the page reads the catalog only). Seeding comes after the
// stores started, so their boot sweeps over every tenant do not run over the seeded ones. Logs in
// once (POST /console/login on the admin port) and times, with the session cookie,
// BENCH_CONSOLE_REQUESTS requests (default 200) of each page one after the other, then as many
// again BENCH_CONSOLE_CONCURRENCY at a time (default 4):
//   first page:   GET /console/tenants (50 rows);
//   search, one:  GET /console/tenants?q=<the digits of one slug> (1 row);
//   search, none: GET /console/tenants?q=no-such-tenant (0 rows);
//   deep page:    GET /console/tenants?after=<slug 9,000> (50 rows).
// Every answer is checked: 200, the expected rows, and no password or user of a server URL.
// Reports p50/p99/max latency (the first, cold request of each page included) and the page's
// bytes; the target: every request of every page under 1 s. Writes
// bench/results/<stamp>-console.{json,md} and latest-console.md; drops its catalog at the end
// (and at the start, what a crashed run left).
import http from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readSettings, ROOT, envInt as int, envFlag as flag } from './lib/config.mjs';
import { machineInfo } from './lib/machine.mjs';
import { adminQuery } from './lib/pg.mjs';
import { killAll, stopAll } from './lib/processes.mjs';
import { fileStamp } from './lib/report.mjs';
import { startEdgeStore, startGateway, startReliableStore, startSecureStore } from './lib/stack.mjs';

const log = (message) => console.log(message);

const settings = {
  ...readSettings(),
  catalogDatabase: 'polystore_bench_console_system',
  tenants: int('BENCH_CONSOLE_TENANTS', 10_000, 200),
  requests: int('BENCH_CONSOLE_REQUESTS', 200),
  concurrency: int('BENCH_CONSOLE_CONCURRENCY', 4),
  /** Also run the three stores (the page's health cells then come from live stores). */
  stores: flag('BENCH_CONSOLE_STORES', true),
  targetMs: 1_000,
};
const PAGE_SIZE = 50;
const slugOf = (i) => `bench-${String(i).padStart(5, '0')}`;
const needle = String(Math.round(settings.tenants * 0.4321)).padStart(5, '0');
const deepAfter = slugOf(Math.round(settings.tenants * 0.9));
const PAGES = [
  { name: 'first page', path: '/console/tenants', rows: PAGE_SIZE },
  { name: 'search, one match', path: `/console/tenants?q=${needle}`, rows: 1 },
  { name: 'search, no match', path: '/console/tenants?q=no-such-tenant', rows: 0 },
  { name: 'deep page', path: `/console/tenants?after=${deepAfter}`, rows: PAGE_SIZE },
];

const dropCatalog = () =>
  adminQuery(settings.pgServerUrl, `DROP DATABASE IF EXISTS "${settings.catalogDatabase}" WITH (FORCE)`);

/** The tenants and their placements, in one statement (the catalog's schema: the gateway migrated it at start). */
async function seed() {
  const names = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Tyrell', 'Soylent', 'Cyberdyne'];
  await adminQuery(
    settings.pgServerUrl,
    `WITH seeded AS (
       INSERT INTO tenants (id, slug, name, status, key_label)
       SELECT g.id, 'bench-' || lpad(g.i::text, 5, '0'),
              ($2::text[])[1 + g.i % cardinality($2::text[])] || ' ' || lpad(g.i::text, 5, '0'), 'active', g.id::text
       FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(1, $1::int) AS i) AS g
       RETURNING id
     )
     INSERT INTO placements (tenant_id, store, server_url, database_name, kind, schema_name)
     SELECT t.id, s.store, s.url,
            CASE s.kind WHEN 'schema' THEN 'polystore_' || s.store ELSE 'ps_' || s.store || '_' || replace(t.id::text, '-', '') END,
            s.kind,
            CASE s.kind WHEN 'schema' THEN 'ps_' || s.store || '_' || replace(t.id::text, '-', '') END
     FROM seeded t
     CROSS JOIN (VALUES ('secure', $3, 'schema'), ('reliable', $4, 'database'), ('edge', $3, 'schema')) AS s(store, url, kind)`,
    [settings.tenants, names, settings.pgServerUrl, settings.mariadbUrl],
    settings.catalogDatabase,
  );
  const [counts] = await adminQuery(
    settings.pgServerUrl,
    'SELECT (SELECT count(*) FROM tenants)::int AS tenants, (SELECT count(*) FROM placements)::int AS placements',
    [],
    settings.catalogDatabase,
  );
  return counts;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** One request to the admin port; resolves with status, headers, body text and the time it took. */
function get(port, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const buffer = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: buffer.toString('utf8'),
          bytes: buffer.length,
          ms: performance.now() - started,
        });
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** Logs in through the form (the token in the body only); returns the session cookie. */
async function login(port) {
  const body = new URLSearchParams({ token: settings.adminToken }).toString();
  const res = await get(port, '/console/login', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  });
  const cookie = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('ps_console='));
  if (res.status !== 303 || !cookie)
    throw new Error(`login: ${res.status}, no session cookie (${res.text.slice(0, 300)})`);
  return cookie.split(';')[0];
}

/** What every answer must be: 200, the page's rows, no server user or password. */
function check(page, res) {
  if (res.status !== 200) throw new Error(`${page.path}: ${res.status} ${res.text.slice(0, 300)}`);
  const rows = (res.text.match(/<tr[^>]*\sdata-slug="/g) ?? []).length;
  if (rows !== page.rows) throw new Error(`${page.path}: ${rows} rows, expected ${page.rows}`);
  if (res.text.includes('root@') || res.text.includes(settings.adminToken))
    throw new Error(`${page.path}: a server user or the admin token in the page`);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function summarize(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (n) => Math.round(n * 10) / 10;
  return {
    n: sorted.length,
    first: round(latencies[0]),
    p50: round(percentile(sorted, 0.5)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted.at(-1)),
  };
}

/** `requests` requests of `page`, `concurrency` at a time; the latencies in the order sent. */
async function measure(port, cookie, page, concurrency) {
  const latencies = [];
  let bytes = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < settings.requests) {
        next++;
        const res = await get(port, page.path, { headers: { cookie } });
        check(page, res);
        latencies.push(res.ms);
        bytes = res.bytes;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  return { ...summarize(latencies), perSecond: Math.round(settings.requests / seconds), bytes };
}

function render(result) {
  const m = result.machine;
  const rows = result.pages.flatMap((p) =>
    [
      ['1', p.sequential],
      [String(settings.concurrency), p.concurrent],
    ].map(
      ([c, s]) =>
        `| ${p.name} | \`${p.path}\` | ${c} | ${p.rows} | ${c === '1' ? s.first : '–'} | ${s.p50} | ${s.p99} | **${s.max}** | ${s.perSecond} | ${s.bytes.toLocaleString('en-US')} |`,
    ),
  );
  const worst = Math.max(...result.pages.flatMap((p) => [p.sequential.max, p.concurrent.max]));
  return [
    `# Operations console: the tenants page with ${result.seeded.tenants.toLocaleString('en-US')} tenants`,
    '',
    `Run ${result.startedAt} on ${m.nproc} CPUs (\`nproc\`; ${m.cpuModel}), ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.nodeVersion}, ${m.postgresVersion.split(' ').slice(0, 2).join(' ')}; load average at the start ${m.loadAverageAtStart.join(' / ')}. Code: \`${m.git.commit}\`${m.git.uncommittedInCode.length ? ' (with uncommitted changes)' : ''}.`,
    `A gateway${settings.stores ? ' and the three stores' : ' alone'} on a catalog of ${result.seeded.tenants.toLocaleString('en-US')} tenants and ${result.seeded.placements.toLocaleString('en-US')} placements (seeded in SQL), logged in once; each page requested ${settings.requests} times one after the other, then ${settings.requests} times ${settings.concurrency} at a time, over keep-alive connections to the admin port. Every answer checked (200, the rows expected, no server user). Times in ms, client side; "first": the first request of the page (cold), one at a time; bytes: the page's HTML.`,
    '',
    '| page | request | concurrency | rows | first | p50 | p99 | max | pages/s | bytes |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `- **Target: every page under ${settings.targetMs} ms: ${worst < settings.targetMs ? 'met' : 'NOT met'}** (slowest request: ${worst} ms).`,
    '',
  ].join('\n');
}

let logDir;
async function main() {
  const startedAt = new Date().toISOString();
  logDir = mkdtempSync(join(os.tmpdir(), 'polystore-bench-console-'));
  log(`logs: ${logDir}`);
  await dropCatalog();
  await adminQuery(settings.pgServerUrl, `CREATE DATABASE "${settings.catalogDatabase}"`);
  const machine = {
    ...(await machineInfo(settings.pgServerUrl)),
    nproc: os.availableParallelism(),
  };
  // The gateway first: it migrates the catalog; the stores only read it.
  const gateway = await startGateway(settings, logDir, ['secure', 'reliable', 'edge']);
  if (settings.stores)
    await Promise.all([
      startSecureStore(settings, logDir),
      startReliableStore(settings, logDir),
      startEdgeStore(settings, logDir),
    ]);
  log(`seeding ${settings.tenants} tenants ...`);
  const seedStarted = performance.now();
  const seeded = await seed();
  log(
    `  ${seeded.tenants} tenants, ${seeded.placements} placements in ${Math.round(performance.now() - seedStarted)} ms`,
  );
  const cookie = await login(gateway.adminPort);
  const pages = [];
  for (const page of PAGES) {
    const sequential = await measure(gateway.adminPort, cookie, page, 1);
    const concurrent = await measure(gateway.adminPort, cookie, page, settings.concurrency);
    log(`${page.name}: ${JSON.stringify({ sequential, concurrent })}`);
    pages.push({ ...page, sequential, concurrent });
  }
  const result = {
    startedAt,
    machine,
    settings: { ...settings, adminToken: undefined, masterKey: undefined },
    seeded,
    pages,
  };
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = fileStamp(new Date(startedAt));
  const markdown = render(result);
  writeFileSync(join(dir, `${stamp}-console.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, `${stamp}-console.md`), markdown);
  writeFileSync(join(dir, 'latest-console.md'), markdown);
  log(markdown);
}

process.once('SIGINT', () => {
  killAll();
  void dropCatalog().finally(() => process.exit(130));
});

try {
  await main();
} finally {
  agent.destroy();
  await stopAll();
  await dropCatalog().catch((error) => log(`dropping ${settings.catalogDatabase} failed: ${error.message}`));
}
