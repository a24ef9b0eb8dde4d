// Results: the raw JSON, the Markdown summary (plus latest-read-customer.md) and the console table.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './config.mjs';

const fmt = {
  int: (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US')),
  /** Requests per second: one decimal below 10 (a collapsed scenario must not read as 0 or 1). */
  rate: (n) => (n === null || n === undefined ? '–' : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')),
  ms: (n) => (n === null || n === undefined ? '–' : String(Math.round(n * 100) / 100)),
  pct: (n) => (n === null || n === undefined ? '–' : `${Math.round(n * 100)}%`),
  ratio: (n) =>
    n === null || n === undefined || !Number.isFinite(n) ? '–' : `${(Math.round(n * 100) / 100).toFixed(2)}×`,
  load: (l) => (l ? l.map((n) => n.toFixed(2)).join(' / ') : '–'),
};

/** The issue's targets. */
export const TARGETS = {
  /** Polystore at the largest tenant count / at 1 tenant, with no non-2xx answer. */
  flatness: 0.8,
  /** Polystore / the naive request-scoped app, at the naive app's tenant count. */
  overNaive: 2,
  /** Tenants created per second through POST /admin/tenants. */
  tenantsPerSecond: 20,
};

/** `2025-01-31T12-00-00Z`: an ISO timestamp that is also a portable file name. */
export function fileStamp(date) {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

/**
 * Writes a one-page report as `<stamp>-<name>.md` and `latest-<name>.md` in `BENCH_RESULTS_DIR`
 * (default bench/results); returns the stamped file's path.
 */
export function writeReport(name, markdown, dir = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench', 'results')) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${fileStamp(new Date())}-${name}.md`);
  writeFileSync(file, markdown);
  writeFileSync(join(dir, `latest-${name}.md`), markdown);
  return file;
}

/** Successful (2xx) answers per second: what the tables call req/s. */
function okRate(s) {
  return s?.load?.durationS ? s.load.ok2xx / s.load.durationS : null;
}

/** Failed requests of a scenario: non-2xx answers plus socket errors (timeouts included). */
function failures(s) {
  return s.load.non2xx + s.load.errors;
}

/** "503 × 12, 504 × 3" */
function statusList(s) {
  return Object.entries(s.load.statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, n]) => `${code} × ${fmt.int(n)}`)
    .join(', ');
}

function errorsCell(s) {
  if (failures(s) === 0) return '0';
  const parts = [];
  if (s.load.non2xx) parts.push(`non-2xx ${fmt.int(s.load.non2xx)}: ${statusList(s)}`);
  if (s.load.errors) parts.push(`socket errors ${fmt.int(s.load.errors)} (timeouts ${fmt.int(s.load.timeouts)})`);
  return `${fmt.int(failures(s))} (${parts.join('; ')})`;
}

function connectionsCell(s) {
  return `${s.connections.peakTenantPool} / ${s.connections.peakAll} (${s.connections.peakOurs})`;
}

function limitsCell(s) {
  const l = s.limits ?? {};
  if (s.kind === 'floor') return `one DataSource, pool ${l.poolSize}`;
  if (s.kind === 'naive') return `pool ${l.poolSize} × ${s.tenants} DataSources = ${l.connections}`;
  if (s.placement === 'database')
    return `pool ${l.ownPoolSize} per tenant database, budget ${l.budget} (${Math.floor(l.budget / l.ownPoolSize)} DataSources)`;
  return `shared pool ${l.sharedPool} (budget ${l.budget}), tenant cap ${l.tenantCap}`;
}

function placementCell(s) {
  if (s.placement === 'schema') return 'schema';
  if (s.placement === 'database') return 'database';
  return s.placement ?? '–';
}

/** The scenarios the summary compares. */
function keyScenarios(run) {
  const schema = run.scenarios.filter((s) => s.kind === 'polystore' && s.placement === 'schema' && !s.variant);
  const one = schema.find((s) => s.tenants === 1);
  const largest = schema.reduce((max, s) => (!max || s.tenants > max.tenants ? s : max), null);
  const naive = run.scenarios.find((s) => s.kind === 'naive');
  return {
    floor: run.scenarios.find((s) => s.kind === 'floor'),
    one,
    largest,
    cap: run.scenarios.find((s) => s.variant === 'cap'),
    schema,
    naive,
    polystoreAtNaive: naive ? schema.find((s) => s.tenants === naive.tenants) : undefined,
    database: run.scenarios.find((s) => s.kind === 'polystore' && s.placement === 'database'),
  };
}

/** The ratios the issue asks for (null where the run lacks a scenario). */
export function ratios(run) {
  const k = keyScenarios(run);
  const ratio = (a, b) => (a && b && okRate(b) ? okRate(a) / okRate(b) : null);
  const databasePeer = k.database ? k.schema.find((s) => s.tenants === k.database.tenants) : undefined;
  return {
    overFloor: ratio(k.one, k.floor),
    flatness: k.largest && k.one && k.largest !== k.one ? ratio(k.largest, k.one) : null,
    flatnessTenants: k.largest?.tenants ?? null,
    overNaive: ratio(k.polystoreAtNaive, k.naive),
    naiveTenants: k.naive?.tenants ?? null,
    schemaOverDatabase: ratio(databasePeer, k.database),
    databaseTenants: databasePeer ? k.database.tenants : null,
  };
}

const verdict = (ok) => (ok ? '**met**' : '**missed**');

/** Rows of the targets table: `[target, measured, verdict]`. */
function targetRows(run) {
  const k = keyScenarios(run);
  const r = ratios(run);
  const rows = [];
  if (r.flatness !== null) {
    const non2xx = k.largest.load.non2xx;
    rows.push([
      `${fmt.int(k.largest.tenants)} tenants ≥ ${TARGETS.flatness}× Polystore's own 1-tenant throughput, 0 non-2xx`,
      `${fmt.ratio(r.flatness)} (${fmt.rate(okRate(k.largest))} vs ${fmt.rate(okRate(k.one))} req/s), ${fmt.int(non2xx)} non-2xx${k.largest.load.errors ? `, ${fmt.int(k.largest.load.errors)} socket errors` : ''}`,
      verdict(r.flatness >= TARGETS.flatness && non2xx === 0 && k.largest.load.errors === 0),
    ]);
  }
  if (r.overNaive !== null) {
    rows.push([
      `Polystore at ${r.naiveTenants} tenants ≥ ${TARGETS.overNaive}× the naive request-scoped app at ${r.naiveTenants}`,
      `${fmt.ratio(r.overNaive)} (${fmt.rate(okRate(k.polystoreAtNaive))} vs ${fmt.rate(okRate(k.naive))} req/s)`,
      verdict(r.overNaive >= TARGETS.overNaive),
    ]);
  }
  for (const p of provisioningRuns(run)) {
    rows.push([
      `provisioning ≥ ${TARGETS.tenantsPerSecond} tenants/s (${p.title})`,
      `${p.timing.tenantsPerSecond.toFixed(1)} tenants/s (${fmt.int(p.timing.tenants)} tenants in ${(p.timing.wallMs / 1000).toFixed(1)} s, ${p.timing.concurrency} at a time)`,
      p.informative ? '–' : verdict(p.timing.tenantsPerSecond >= TARGETS.tenantsPerSecond),
    ]);
  }
  return rows;
}

/** The provisioning measurements, titled. */
function provisioningRuns(run) {
  const p = run.provisioning ?? {};
  const kinds = (t) =>
    ['secure', 'reliable', 'edge']
      .filter((store) => t.kinds?.[store])
      .map((store) => `${store}: ${t.kinds[store]}`)
      .join(', ');
  const list = [];
  if (p.secure)
    list.push({
      title: `secure store only (${kinds(p.secure)}): the tenants of the read scenarios`,
      short: "secure store only, the read scenarios' tenants",
      timing: p.secure,
    });
  if (p.allStores)
    list.push({
      title: `secure + reliable (MariaDB) + edge stores (${kinds(p.allStores)})`,
      short: 'all three stores',
      timing: p.allStores,
    });
  if (p.secureDatabase)
    list.push({
      title: `secure store only (${kinds(p.secureDatabase)}, the old layout; informative)`,
      short: 'secure store only, database placements',
      timing: p.secureDatabase,
      informative: true,
    });
  return list;
}

const cpuOf = (s, name) => s?.cpu?.components?.[name]?.msPerRequest ?? null;
const cpuTotal = (s) =>
  Object.entries(s?.cpu?.components ?? {})
    .filter(([name]) => name !== 'other' && name !== 'bench')
    .reduce((sum, [, c]) => sum + (c.msPerRequest ?? 0), 0);

/** "1-tenant" sentences: CPU per request per process, floor vs. Polystore. */
function hotTenantSentences(run, floor, one) {
  const busy = Math.max(floor.cpu.machineBusyShare ?? 0, one.cpu.machineBusyShare ?? 0);
  const other = Math.max(floor.cpu.components?.other?.share ?? 0, one.cpu.components?.other?.share ?? 0);
  const parts = [
    `Both sides are CPU-bound on this ${run.machine.cpuCount}-core machine (${fmt.pct(busy)} busy during the 1-tenant runs${other > 0.1 ? `, up to ${fmt.pct(other)} of it other work on the machine` : ''}), so throughput is roughly the inverse of the CPU each request costs.` +
      ` The floor spends ${fmt.ms(cpuOf(floor, 'floor'))} ms of CPU per request in its Node process and ${fmt.ms(cpuOf(floor, 'postgres'))} ms in PostgreSQL (${fmt.ms(cpuTotal(floor))} ms in all).` +
      ` Polystore at 1 tenant spends ${fmt.ms(cpuOf(one, 'gateway'))} ms in the gateway (Fastify, tenant resolution, API-key check, access log, NATS request), ${fmt.ms(cpuOf(one, 'secure'))} ms in the secure store (NATS message, tenant context, data router, a unit of work on the shared pool: a transaction binding role and search path, the primary-key read, three AES-GCM decryptions, the hash-chained audit append), ${fmt.ms(cpuOf(one, 'postgres'))} ms in PostgreSQL (the bound read plus the group-committed audit insert and head update) and ${fmt.ms(cpuOf(one, 'nats'))} ms in the NATS server: ${fmt.ms(cpuTotal(one))} ms in all, ${fmt.ratio(cpuTotal(one) / cpuTotal(floor))} the floor's.` +
      ` The load generator itself (autocannon, in the bench process) used ${fmt.ms(cpuOf(one, 'bench'))} ms per request on the same cores.`,
  ];
  if (one.metrics?.gatewayHttpMeanMs != null && one.metrics?.gatewayRpcMeanMs != null) {
    parts.push(
      `Seen from inside the gateway a request takes ${fmt.ms(one.metrics.gatewayHttpMeanMs)} ms on average, ${fmt.ms(one.metrics.gatewayRpcMeanMs)} ms of which is the NATS round trip to the secure store (its queueing for a CPU, for a shared-pool connection within the tenant's cap and for the audit group commit included); the client sees ${fmt.ms(one.load.latencyMs.mean)} ms.`,
    );
  }
  return parts;
}

/** The tenant-cap variant compared with the default cap at 1 tenant. */
function capSentence(run, one, cap) {
  const change = okRate(cap) / okRate(one) - 1;
  let reading = '.';
  if (Math.abs(change) < 0.1) reading = ', within noise: at 1 tenant the cap is not the bottleneck, CPU is.';
  else if (change > 0)
    reading = `: with ${one.limits.tenantCap} connections the ${run.settings.connections} concurrent reads of one tenant queue for them (the audit group commit holds one while it flushes), so at 1 tenant the cap, not only CPU, limits throughput; the cap is what keeps one busy tenant from taking the whole pool from the others.`;
  return `Letting one tenant use the whole shared pool (tenant cap ${cap.limits.tenantCap} instead of ${one.limits.tenantCap}) changes 1-tenant throughput by ${change >= 0 ? '+' : ''}${fmt.pct(change)} (${fmt.rate(okRate(cap))} vs ${fmt.rate(okRate(one))} req/s, p99 ${fmt.ms(cap.load.latencyMs.p99)} vs ${fmt.ms(one.load.latencyMs.p99)} ms)${reading}`;
}

/**
 * Audit records per audit transaction: every read is one unit of work on the shared pool, and
 * the audit group commit of its tenant one more per batch, so batches = units - requests.
 */
function auditBatch(s) {
  const units = s.metrics?.sharedPoolUnits;
  const requests = s.load.requests;
  if (units === null || units === undefined || !requests || units <= requests) return null;
  return requests / (units - requests);
}

/** One schema-placement scenario with several tenants: what the shared pool did. */
function sharedPoolSentence(s, one) {
  const m = s.metrics ?? {};
  const perRequest = m.sharedPoolUnits != null && s.load.requests ? m.sharedPoolUnits / s.load.requests : null;
  const vsOne = one ? ` (${fmt.ratio(okRate(s) / okRate(one))} the 1-tenant rate)` : '';
  const batch = auditBatch(s);
  const batchOne = one ? auditBatch(one) : null;
  const cpuVsOne = one
    ? `; CPU per request ${fmt.ms(cpuTotal(s))} ms in all against ${fmt.ms(cpuTotal(one))} ms at 1 tenant (secure store ${fmt.ms(cpuOf(s, 'secure'))} vs ${fmt.ms(cpuOf(one, 'secure'))}, PostgreSQL ${fmt.ms(cpuOf(s, 'postgres'))} vs ${fmt.ms(cpuOf(one, 'postgres'))}, gateway ${fmt.ms(cpuOf(s, 'gateway'))} vs ${fmt.ms(cpuOf(one, 'gateway'))})`
    : '';
  const auditPart =
    batch !== null
      ? ` Each read is one unit (a transaction: bind, read, commit) and each audit group commit another: ${batch.toFixed(1)} audit records per audit transaction here${batchOne !== null ? ` against ${batchOne.toFixed(1)} at 1 tenant` : ''}${
          batch < 2
            ? `; spread over ${fmt.int(s.tenants)} tenants, reads rarely meet a read of the same tenant, so with a group commit per tenant nearly every read pays a transaction of its own for its audit record (lock the chain head, insert, update the head, a durable commit).`
            : ` (an audit group commit spans the tenants of the shared database: one statement for the waiting reads of all of them).`
        }`
      : '';
  return (
    `With ${fmt.int(s.tenants)} tenants on schema placements, ${fmt.rate(okRate(s))} req/s${vsOne}, p50 ${fmt.ms(s.load.latencyMs.p50)} ms, p99 ${fmt.ms(s.load.latencyMs.p99)} ms, ${fmt.int(failures(s))} failed${failures(s) ? ` (${statusList(s) || 'socket errors'})` : ''}: ` +
    `the secure store served ${fmt.int(m.sharedPoolUnits)} units of work on its one shared pool (${perRequest === null ? '–' : perRequest.toFixed(2)} per request), ` +
    `its tenant connections peaked at ${s.connections.peakTenantPool} (pool ${s.limits.sharedPool}), ${fmt.int(s.connections.tenantBackendsOpened)} new ones were seen during the window (recycled at their use limit: ${fmt.int(m.sharedPoolRecycled)}, discarded: ${fmt.int(m.sharedPoolDiscarded)}), STORE_BUSY ${fmt.int((m.sharedPoolBusyRejections ?? 0) + (m.busyRejections ?? 0))}${cpuVsOne}.` +
    auditPart
  );
}

/** The naive baseline: what a DataSource per tenant and a request-scoped provider cost. */
function naiveSentence(run, naive, polystore, floor, one) {
  const c = naive.connections;
  const scaling =
    floor && one && polystore
      ? ` Each side against its own single-tenant form: the naive app serves ${fmt.ratio(okRate(naive) / okRate(floor))} of the floor's rate (the same stack on one fixed DataSource of pool ${floor.limits.poolSize}), Polystore at ${fmt.int(polystore.tenants)} tenants ${fmt.ratio(okRate(polystore) / okRate(one))} of its own 1-tenant rate.`
      : '';
  return (
    `The naive app (a request-scoped tenant connection, so Nest builds the provider and the controller anew for every request; one TypeORM DataSource per tenant, pool ${naive.limits.poolSize}, ${fmt.int(naive.tenants)} tenants = ${naive.limits.connections} connections, chosen to stay under max_connections ${run.machine.postgresMaxConnections} beside everything else on the server) served ${fmt.rate(okRate(naive))} req/s, p50 ${fmt.ms(naive.load.latencyMs.p50)} ms, p99 ${fmt.ms(naive.load.latencyMs.p99)} ms, ${fmt.int(failures(naive))} failed; ` +
    `its connections peaked at ${c.peakTenantPool} (${fmt.int(c.tenantBackendsOpened)} opened during the window). It spends ${fmt.ms(cpuOf(naive, 'naive'))} ms of CPU per request in its Node process and ${fmt.ms(cpuOf(naive, 'postgres'))} ms in PostgreSQL (${fmt.ms(cpuTotal(naive))} ms in all, the idle gateway and store included)` +
    (polystore
      ? `, against Polystore's ${fmt.ms(cpuTotal(polystore))} ms at ${fmt.int(polystore.tenants)} tenants; with ${naive.limits.poolSize === 1 ? 'one connection' : `${naive.limits.poolSize} connections`} per tenant, the ${run.settings.connections} concurrent requests queue per tenant (random tenants collide), while Polystore's shared pool lends any free connection to any tenant.`
      : '.') +
    scaling
  );
}

/** Database placements (the old layout): how often tenants were cold, and what a cold tenant costs. */
function databaseSentence(s, schemaPeer) {
  const m = s.metrics ?? {};
  const l = s.limits;
  const capacity = Math.floor(l.budget / l.ownPoolSize);
  const opened = m.dataSourcesOpened ?? null;
  const completed = s.load.requests;
  const idealMiss = Math.max(0, (s.tenants - capacity) / s.tenants);
  const postgresMs = s.cpu?.components?.postgres?.ms ?? null;
  const connectionsOpened = s.connections.tenantDatabaseConnectionsOpened ?? null;
  const perOpen = (value) => (value !== null && opened ? value / opened : null);
  const slots =
    s.tenants > capacity
      ? `more than the ${capacity} DataSources a budget of ${l.budget} connections allows at pool ${l.ownPoolSize}`
      : `within the ${capacity} DataSources the budget allows`;
  const churn = opened
    ? `the store opened ${fmt.int(opened)} DataSources and evicted ${fmt.int(m.evictions)} in ${fmt.int(s.load.durationS)} s, ` +
      `${completed ? (opened / completed).toFixed(2) : '–'} per completed request where an ideal LRU cache of ${capacity} tenants would need ${idealMiss.toFixed(2)} under uniform access` +
      `${connectionsOpened !== null ? `, and ${fmt.int(connectionsOpened)} PostgreSQL connections to tenant databases (${perOpen(connectionsOpened)?.toFixed(1) ?? '–'} per DataSource)` : ''}; ` +
      `PostgreSQL spent ${fmt.int(perOpen(postgresMs))} ms of CPU per DataSource opened (${fmt.ms(cpuOf(s, 'postgres'))} ms per completed request, the secure store ${fmt.ms(cpuOf(s, 'secure'))} ms)`
    : `every tenant's DataSource stayed open through the window (opened during the warm-up, none evicted); PostgreSQL spent ${fmt.ms(cpuOf(s, 'postgres'))} ms of CPU per request, the secure store ${fmt.ms(cpuOf(s, 'secure'))} ms`;
  return (
    `With ${s.tenants} tenants on database placements (the old layout, a pool per tenant database; ${slots}), ${churn}: ` +
    `${fmt.rate(okRate(s))} successful req/s (${failures(s) ? `of ${fmt.rate(s.load.requestsPerSecond)} answers/s; ` : ''}p50 ${fmt.int(s.load.latencyMs.p50)} ms, p99 ${fmt.int(s.load.latencyMs.p99)} ms) with ${fmt.int(failures(s))} failed requests${failures(s) ? ` (${statusList(s) || 'socket errors'})` : ''}` +
    `${schemaPeer ? `; schema placements served the same number of tenants at ${fmt.ratio(okRate(schemaPeer) / okRate(s))} that rate (CPU per request ${fmt.ms(cpuTotal(schemaPeer))} ms vs ${fmt.ms(cpuTotal(s))} ms here)` : ''}; ` +
    `the tenant connections peaked at ${s.connections.peakTenantPool} against a budget of ${l.budget}.`
  );
}

/** The "where the time goes" paragraphs, written from this run's own numbers. */
export function whereTheTimeGoes(run) {
  const k = keyScenarios(run);
  const paragraphs = [];
  const hot = [];
  if (k.floor && k.one) hot.push(...hotTenantSentences(run, k.floor, k.one));
  if (k.cap && k.one) hot.push(capSentence(run, k.one, k.cap));
  if (hot.length) paragraphs.push(hot.join(' '));
  for (const s of k.schema.filter((p) => p.tenants > 1)) paragraphs.push(sharedPoolSentence(s, k.one));
  if (k.naive) paragraphs.push(naiveSentence(run, k.naive, k.polystoreAtNaive, k.floor, k.one));
  if (k.database)
    paragraphs.push(
      databaseSentence(
        k.database,
        k.schema.find((s) => s.tenants === k.database.tenants),
      ),
    );
  return paragraphs.join('\n\n');
}

/** Scenarios during which other work took more than `threshold` of the machine. */
function contendedScenarios(run, threshold = 0.1) {
  return run.scenarios.filter((s) => (s.cpu?.components?.other?.share ?? 0) > threshold);
}

/** One warning line per contended scenario (empty when the machine was quiet). */
function contentionWarnings(run) {
  const lines = contendedScenarios(run).map(
    (s) =>
      `${s.id}: other processes used ${fmt.pct(s.cpu.components.other.share)} of the machine during this scenario: its numbers are understated, compare with care or re-run`,
  );
  if (run.machine.busyShareBeforeStart > 0.2)
    lines.unshift(`the machine was ${fmt.pct(run.machine.busyShareBeforeStart)} busy before the run started`);
  return lines;
}

const mib = (bytes) => (bytes / 1_048_576).toFixed(1);

/** What the run did to the server's catalogs before measuring (autovacuum off: see bench/lib/pg.mjs). */
export function catalogNote(run) {
  const c = run.machine.catalogs;
  if (!c) return '';
  return c.vacuumed
    ? `PostgreSQL runs without autovacuum here: the run first vacuumed the system catalogs that tenant churn fills (${mib(c.bytesBefore)} MiB, left by earlier runs, down to ${mib(c.bytesAfter)} MiB).`
    : 'PostgreSQL runs with autovacuum: the run left its catalogs alone.';
}

/** The "Ratios" line. */
function ratioLines(run) {
  const r = ratios(run);
  const lines = [];
  if (r.flatness !== null)
    lines.push(
      `**Flatness: Polystore at ${fmt.int(r.flatnessTenants)} tenants / at 1 tenant = ${fmt.ratio(r.flatness)}**`,
    );
  if (r.overNaive !== null)
    lines.push(`**Polystore / naive request-scoped app, ${r.naiveTenants} tenants = ${fmt.ratio(r.overNaive)}**`);
  if (r.schemaOverDatabase !== null)
    lines.push(
      `Schema / database placements (the old layout), ${r.databaseTenants} tenants = ${fmt.ratio(r.schemaOverDatabase)}`,
    );
  if (r.overFloor !== null)
    lines.push(
      `Polystore at 1 tenant / floor = ${fmt.ratio(r.overFloor)} (the floor serves ${fmt.ratio(1 / r.overFloor)} as many requests per second: the price of the architecture on one hot tenant)`,
    );
  const p = provisioningRuns(run).filter((x) => !x.informative);
  if (p.length)
    lines.push(
      `Provisioning: ${p.map((x) => `${x.timing.tenantsPerSecond.toFixed(1)} tenants/s (${x.short}, ${fmt.int(x.timing.tenants)} tenants)`).join('; ')}`,
    );
  return lines;
}

/** Which code was measured. */
function codeLine(machine) {
  if (machine.snapshot?.commit)
    return `Code: \`${machine.snapshot.commit}\` (apps and libs as committed, built by bench/snapshot.mjs into \`${machine.appsRoot}\`; the baselines from the working tree).`;
  const uncommitted = machine.git.uncommittedInCode;
  const changes = uncommitted.length
    ? ` plus uncommitted changes in ${uncommitted.map((l) => `\`${l.replace(/^\s*\S+\s+/, '')}\``).join(', ')}`
    : '';
  const root = machine.appsRoot && machine.appsRoot !== '.' ? `; the built apps ran from \`${machine.appsRoot}\`` : '';
  return `Code: \`${machine.git.commit ?? 'unknown'}\`${changes}${root}.`;
}

/** The Markdown summary. */
export function renderMarkdown(run) {
  const { settings, machine } = run;
  const one = keyScenarios(run).one;
  const vsOne = (s) => (s.kind === 'polystore' && one && s !== one ? fmt.ratio(okRate(s) / okRate(one)) : '');
  const rows = run.scenarios.map(
    (s) =>
      `| ${s.label} | ${placementCell(s)} | ${fmt.int(s.tenants)} | ${fmt.rate(okRate(s))} | ${vsOne(s)} | ${fmt.ms(s.load.latencyMs.p50)} | ${fmt.ms(s.load.latencyMs.p99)} | ${errorsCell(s)} | ${connectionsCell(s)} | ${limitsCell(s)} |`,
  );
  const cpuRows = run.scenarios.map((s) => {
    const c = (name) => fmt.ms(cpuOf(s, name));
    return `| ${s.label} | ${fmt.int(s.tenants)} | ${c('floor')} | ${c('naive')} | ${c('gateway')} | ${c('secure')} | ${c('postgres')} | ${c('nats')} | ${c('bench')} | ${fmt.pct(s.cpu.components?.other?.share)} | ${fmt.pct(s.cpu.machineBusyShare)} | ${fmt.load(s.loadAverage)} |`;
  });
  const provisioningRows = provisioningRuns(run).map(({ title, timing }) => {
    const c = (name) => fmt.int(timing.cpu?.components?.[name]?.msPerRequest);
    const stores = ['secure', 'reliable', 'edge']
      .filter((name) => timing.cpu?.components?.[name])
      .map((name) => `${name} ${c(name)}`)
      .join(', ');
    return `| ${title} | ${fmt.int(timing.tenants)} | ${timing.concurrency} | ${(timing.wallMs / 1000).toFixed(1)} | ${timing.tenantsPerSecond.toFixed(1)} | ${fmt.int(timing.latencyMs.p50)} | ${fmt.int(timing.latencyMs.p99)} | ${c('gateway')} | ${stores || '–'} | ${c('postgres')} | ${c('mariadb')} | ${c('nats')} | ${fmt.pct(timing.cpu?.components?.other?.share)} | ${fmt.pct(timing.cpu?.machineBusyShare)} |`;
  });
  const targets = targetRows(run);
  const warnings = contentionWarnings(run);
  return `# Read one customer: Polystore from 1 to ${fmt.int(Math.max(...run.scenarios.map((s) => s.tenants)))} tenants, the floor, a naive multi-tenant app; provisioning

Run ${run.startedAt} on ${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, ${machine.os}, Node ${machine.nodeVersion}, ${machine.postgresVersion.split(',')[0]} (max_connections ${machine.postgresMaxConnections}, ${machine.postgresSuperuserReserved ?? '–'} reserved for superusers).
Load average (1 / 5 / 15 min): ${fmt.load(machine.loadAverageAtStart)} at the start, ${fmt.load(machine.loadAverageBeforeScenarios)} before the read scenarios, ${fmt.load(machine.loadAverageAfterScenarios)} after them, ${fmt.load(machine.loadAverageAtEnd)} at the end.
${catalogNote(run)}
${codeLine(machine)}
Secure store on this server: connection budget ${run.limits.budget} (min(${settings.secure.connectionBudget}, ${settings.secure.serverSharePct}% of (max_connections − reserved − ${settings.secure.serverReserve}))), one shared pool of ${run.limits.sharedPool} for every schema placement, tenant cap ${run.limits.tenantCap}; pool ${settings.secure.poolSize} per database placement.
Each read scenario: ${settings.connections} connections, ${settings.warmupS} s warm-up (not recorded), then ${settings.durationS} s measured; each request picks one of the scenario's tenants uniformly at random; a scenario with several tenants first sends one request to each (priming: every tenant warm).

## Targets

| target | measured | |
|---|---|---|
${targets.map((r) => `| ${r.join(' | ')} |`).join('\n')}

${ratioLines(run)
  .map((l) => `- ${l}`)
  .join('\n')}

${warnings.map((w) => `> **Warning:** ${w}.`).join('\n>\n')}

## Reads

| scenario | placements | tenants | req/s (2xx) | vs 1 tenant | p50 ms | p99 ms | errors | peak PG connections: tenant / all (this run's) | connection limits |
|---|---|---:|---:|---:|---:|---:|---|---|---|
${rows.join('\n')}

Columns: *errors* = non-2xx answers (by status) + socket errors and timeouts. *Peak PG connections* are sampled every ${settings.sampleEveryMs} ms from \`pg_stat_activity\`: *tenant* counts the tenant connections of the system under test (the secure store's shared pool and own pools, \`polystore-secure:<instance>\`; the floor's pool; the naive app's DataSources), *all* every client backend on the server (other users of the server included, the sampler excluded), and in parentheses this run's own processes (the catalog pools of the gateway and store included). *req/s* counts successful (2xx) answers; latencies are those of the 2xx answers (autocannon's default), with 1 ms resolution. *vs 1 tenant*: req/s relative to Polystore at 1 tenant.

## Provisioning

\`POST /admin/tenants\` (the tenant-provisioning saga: catalog entry, a schema or database per store created and migrated, activation, an API key), ${settings.adminConcurrency} requests at a time; the customers the read scenarios use are created afterwards and not timed.

| run | tenants | at a time | seconds | tenants/s | p50 ms | p99 ms | CPU ms per tenant: gateway | stores | PostgreSQL | MariaDB | NATS | other | machine busy |
|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|
${provisioningRows.join('\n')}

CPU per tenant from \`/proc\` as in the read scenarios (PostgreSQL and MariaDB: the whole servers, other users included; *other*: everything else on the machine, as a share of all cores). When the machine is busy, tenants/s is about (cores × busy share) / (CPU ms per tenant, all processes together).

## Where the time goes

${whereTheTimeGoes(run)}

CPU per request, in ms, by process (from \`/proc\`; *PostgreSQL* is the whole server, other users' queries included; *load generator* is autocannon in the bench process; *other* is everything else on the machine, as a share of all cores; *load* is the load average at the end of the window):

| scenario | tenants | floor app | naive app | gateway | secure store | PostgreSQL | NATS | load generator | other | machine busy | load (1/5/15 min) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
${cpuRows.join('\n')}

Absolute numbers on a shared ${machine.cpuCount}-core machine are noisy: compare ratios within one run, not numbers across runs. Raw numbers: \`${run.files.json}\`.
`;
}

/** A compact fixed-width table for the terminal. */
export function renderConsoleTable(run) {
  const header = ['scenario', 'tenants', '2xx/s', 'p50', 'p99', 'errors', 'PG peak tenant/all'];
  const rows = run.scenarios.map((s) => [
    s.id,
    String(s.tenants),
    fmt.rate(okRate(s)),
    fmt.ms(s.load.latencyMs.p50),
    fmt.ms(s.load.latencyMs.p99),
    fmt.int(failures(s)),
    `${s.connections.peakTenantPool}/${s.connections.peakAll}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    ...ratioLines(run).map((l) => l.replaceAll('**', '')),
    ...targetRows(run).map((r) => `target: ${r[0]}: ${r[1]}: ${r[2].replaceAll('**', '')}`),
    ...contentionWarnings(run).map((w) => `warning: ${w}`),
  ].join('\n');
}

/** Writes `<stamp>-read-customer.json`, `<stamp>-read-customer.md` and `latest-read-customer.md`. */
export function writeResults(run, dir) {
  mkdirSync(dir, { recursive: true });
  const base = `${fileStamp(new Date(run.startedAt))}-read-customer`;
  const json = join(dir, `${base}.json`);
  const md = join(dir, `${base}.md`);
  run.files = { json: `${base}.json`, markdown: `${base}.md` };
  writeFileSync(json, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(md, renderMarkdown(run));
  copyFileSync(md, join(dir, 'latest-read-customer.md'));
  return { json, md };
}
