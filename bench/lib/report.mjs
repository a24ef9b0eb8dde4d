// Results: the raw JSON, the Markdown summary (plus latest-read-customer.md) and the console table.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const fmt = {
  int: (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US')),
  /** Requests per second: one decimal below 10 (a collapsed scenario must not read as 0 or 1). */
  rate: (n) => (n === null || n === undefined ? '–' : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')),
  ms: (n) => (n === null || n === undefined ? '–' : String(Math.round(n * 100) / 100)),
  pct: (n) => (n === null || n === undefined ? '–' : `${Math.round(n * 100)}%`),
  ratio: (n) =>
    n === null || n === undefined || !Number.isFinite(n) ? '–' : `${(Math.round(n * 100) / 100).toFixed(2)}×`,
};

/** `2025-01-31T12-00-00Z`: an ISO timestamp that is also a portable file name. */
export function fileStamp(date) {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

/** Successful (2xx) answers per second: what the tables call req/s. */
function okRate(s) {
  return s.load.durationS ? s.load.ok2xx / s.load.durationS : null;
}

/** Failed requests of a scenario: non-2xx answers plus socket errors (timeouts included). */
function failures(s) {
  return s.load.non2xx + s.load.errors;
}

function errorsCell(s) {
  const total = failures(s);
  if (total === 0) return '0';
  return `${fmt.int(total)} (non-2xx ${fmt.int(s.load.non2xx)}, timeouts ${fmt.int(s.load.timeouts)})`;
}

function connectionsCell(s) {
  const pool = s.kind === 'floor' ? '–' : String(s.connections.peakTenantPool);
  return `${pool} / ${s.connections.peakAll} (${s.connections.peakOurs})`;
}

function budgetCell(s) {
  if (s.kind === 'floor') return `pool ${s.poolSize}`;
  return `${s.budget} (pool ${s.poolSize} × ${Math.floor(s.budget / s.poolSize)} DataSources)`;
}

/** The scenarios the summary compares. */
function keyScenarios(run) {
  const byId = new Map(run.scenarios.map((s) => [s.id, s]));
  const polystore = run.scenarios.filter((s) => s.kind === 'polystore' && s.poolSize === run.settings.secure.poolSize);
  return {
    floor: byId.get('floor'),
    one: byId.get('polystore-1'),
    pool: run.scenarios.find((s) => s.variant === 'pool'),
    polystore,
  };
}

/** Polystore at 1 tenant relative to the floor (throughput and median latency). */
export function floorRatio(run) {
  const { floor, one } = keyScenarios(run);
  if (!floor || !one || !okRate(floor)) return null;
  return {
    throughput: okRate(one) / okRate(floor),
    p50: floor.load.latencyMs.p50 ? one.load.latencyMs.p50 / floor.load.latencyMs.p50 : null,
  };
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
      ` Polystore at 1 tenant spends ${fmt.ms(cpuOf(one, 'gateway'))} ms in the gateway (Fastify, tenant resolution, API-key check, access log, NATS request), ${fmt.ms(cpuOf(one, 'secure'))} ms in the secure store (NATS message, tenant context, data router, the primary-key read, three AES-GCM decryptions, the hash-chained audit append), ${fmt.ms(cpuOf(one, 'postgres'))} ms in PostgreSQL (the read plus the group-committed audit insert and head update) and ${fmt.ms(cpuOf(one, 'nats'))} ms in the NATS server: ${fmt.ms(cpuTotal(one))} ms in all, ${fmt.ratio(cpuTotal(one) / cpuTotal(floor))} the floor's.` +
      ` The load generator itself (autocannon, in the bench process) used ${fmt.ms(cpuOf(one, 'bench'))} ms per request on the same cores.`,
  ];
  if (one.metrics?.gatewayHttpMeanMs != null && one.metrics?.gatewayRpcMeanMs != null) {
    parts.push(
      `Seen from inside the gateway a request takes ${fmt.ms(one.metrics.gatewayHttpMeanMs)} ms on average, ${fmt.ms(one.metrics.gatewayRpcMeanMs)} ms of which is the NATS round trip to the secure store (its queueing for a CPU, for one of the tenant's pooled connections and for the audit group commit included); the client sees ${fmt.ms(one.load.latencyMs.mean)} ms.`,
    );
  }
  return parts;
}

/** The pool-size variant compared with the default pool at 1 tenant. */
function poolSentence(run, one, pool) {
  const change = okRate(pool) / okRate(one) - 1;
  let reading = '.';
  if (Math.abs(change) < 0.1) reading = ', within noise: at 1 tenant the pool is not the bottleneck, CPU is.';
  else if (change > 0) {
    reading = `: with ${one.poolSize} connections the ${run.settings.connections} concurrent reads of one tenant queue for them (the audit group commit holds one while it flushes), so at 1 tenant the pool, not only CPU, limits throughput.`;
  }
  return `A tenant pool of ${pool.poolSize} instead of ${one.poolSize} connections changes 1-tenant throughput by ${change >= 0 ? '+' : ''}${fmt.pct(change)} (${fmt.rate(okRate(pool))} vs ${fmt.rate(okRate(one))} req/s, p99 ${fmt.ms(pool.load.latencyMs.p99)} vs ${fmt.ms(one.load.latencyMs.p99)} ms)${reading}`;
}

/** One scenario with several tenants: how often tenants were cold, and what a cold tenant costs. */
function manyTenantsSentence(s) {
  const m = s.metrics ?? {};
  const capacity = Math.floor(s.budget / s.poolSize);
  const completed = s.load.requests;
  const opened = m.dataSourcesOpened;
  const idealMiss = Math.max(0, (s.tenants - capacity) / s.tenants);
  const postgresMs = s.cpu?.components?.postgres?.ms ?? null;
  const connectionsOpened = s.connections.tenantDatabaseConnectionsOpened ?? null;
  const perOpen = (value) => (value !== null && opened ? value / opened : null);
  const slots =
    s.tenants > capacity
      ? `more than the ${capacity} DataSources a budget of ${s.budget} connections allows at pool ${s.poolSize}`
      : `within the ${capacity} DataSources the budget allows`;
  return (
    `With ${s.tenants} tenants (${slots}), the store opened ${fmt.int(opened)} DataSources and evicted ${fmt.int(m.evictions)} in ${fmt.int(s.load.durationS)} s, ` +
    `${opened !== null && completed ? (opened / completed).toFixed(2) : '–'} per completed request where an ideal LRU cache of ${capacity} tenants would need ${idealMiss.toFixed(2)} under uniform access` +
    `${connectionsOpened !== null ? `, and ${fmt.int(connectionsOpened)} PostgreSQL connections to tenant databases (${perOpen(connectionsOpened)?.toFixed(1) ?? '–'} per DataSource)` : ''}. ` +
    `PostgreSQL spent ${fmt.int(perOpen(postgresMs))} ms of CPU per DataSource opened (${fmt.ms(cpuOf(s, 'postgres'))} ms per completed request, the secure store ${fmt.ms(cpuOf(s, 'secure'))} ms), ` +
    `which caps throughput at ${fmt.rate(okRate(s))} successful req/s (${failures(s) ? `of ${fmt.rate(s.load.requestsPerSecond)} answers/s; ` : ''}p50 ${fmt.int(s.load.latencyMs.p50)} ms, p99 ${fmt.int(s.load.latencyMs.p99)} ms) with ${fmt.int(failures(s))} failed requests${
      failures(s)
        ? ` (${Object.entries(s.load.statusCodes)
            .filter(([code]) => !code.startsWith('2'))
            .map(([code, n]) => `${n} × ${code}`)
            .join(', ')})`
        : ''
    }; ` +
    `the tenant pool peaked at ${s.connections.peakTenantPool} connections against a budget of ${s.budget}.`
  );
}

/** The "where the time goes" paragraph, written from this run's own numbers. */
export function whereTheTimeGoes(run) {
  const { floor, one, pool, polystore } = keyScenarios(run);
  const parts = [];
  if (floor && one) parts.push(...hotTenantSentences(run, floor, one));
  if (pool && one) parts.push(poolSentence(run, one, pool));
  for (const s of polystore.filter((p) => p.tenants > 1)) parts.push(manyTenantsSentence(s));
  return parts.join(' ');
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

/** The Markdown summary. */
export function renderMarkdown(run) {
  const { settings, machine } = run;
  const ratio = floorRatio(run);
  const rows = run.scenarios.map(
    (s) =>
      `| ${s.label} | ${s.tenants} | ${fmt.rate(okRate(s))} | ${fmt.ms(s.load.latencyMs.p50)} | ${fmt.ms(s.load.latencyMs.p99)} | ${errorsCell(s)} | ${connectionsCell(s)} | ${budgetCell(s)} |`,
  );
  const cpuRows = run.scenarios.map((s) => {
    const c = (name) => fmt.ms(cpuOf(s, name));
    return `| ${s.label} | ${s.tenants} | ${c('floor')} | ${c('gateway')} | ${c('secure')} | ${c('postgres')} | ${c('nats')} | ${c('bench')} | ${fmt.pct(s.cpu.components?.other?.share)} | ${fmt.pct(s.cpu.machineBusyShare)} |`;
  });
  const uncommitted = machine.git.uncommittedInCode;
  return `# Read one customer: Polystore vs. the floor

Run ${run.startedAt} on ${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, ${machine.os}, Node ${machine.nodeVersion}, ${machine.postgresVersion.split(',')[0]} (max_connections ${machine.postgresMaxConnections}).
Code: \`${machine.git.commit ?? 'unknown'}\`${uncommitted.length ? ` plus uncommitted changes in ${uncommitted.map((l) => `\`${l.replace(/^\s*\S+\s+/, '')}\``).join(', ')}` : ''}.
Each scenario: ${settings.connections} connections, ${settings.warmupS} s warm-up (not recorded), then ${settings.durationS} s measured; each request picks one of the scenario's tenants uniformly at random.

| scenario | tenants | req/s (2xx) | p50 ms | p99 ms | errors | peak PG connections: tenant pool / all (this run's) | budget |
|---|---:|---:|---:|---:|---|---|---|
${rows.join('\n')}

${ratio ? `**Polystore at 1 tenant / floor: ${fmt.ratio(ratio.throughput)} the throughput** (the floor serves ${fmt.ratio(1 / ratio.throughput)} as many requests per second)${ratio.p50 ? `, ${fmt.ratio(ratio.p50)} the median latency` : ''}.` : '_No ratio: the run had no floor or no 1-tenant scenario._'}

${contentionWarnings(run)
  .map((w) => `> **Warning:** ${w}.`)
  .join('\n>\n')}

Columns: *errors* = non-2xx answers + socket errors and timeouts. *Peak PG connections* are sampled every ${settings.sampleEveryMs} ms from \`pg_stat_activity\`: *tenant pool* counts the secure store's tenant DataSources (\`polystore-secure:<instance>\`), *all* every client backend on the server (other users of the server included, the sampler excluded), and in parentheses this run's own processes (catalog pools, tenant pool, the floor). The *budget* is \`SECURE_DB_CONNECTION_BUDGET\` for the tenant pool; the catalog pools add ${settings.secure.catalogPoolSize} connections per process. *req/s* counts successful (2xx) answers; latencies are those of the 2xx answers (autocannon's default), with 1 ms resolution.

## Where the time goes

${whereTheTimeGoes(run)}

CPU per request, in ms, by process (from \`/proc\`; *PostgreSQL* is the whole server, other users' queries included; *load generator* is autocannon in the bench process; *other* is everything else on the machine, as a share of all cores):

| scenario | tenants | floor app | gateway | secure store | PostgreSQL | NATS | load generator | other | machine busy |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${cpuRows.join('\n')}

Absolute numbers on a shared ${machine.cpuCount}-core machine are noisy: compare ratios within one run, not numbers across runs. Raw numbers: \`${run.files.json}\`.
`;
}

/** A compact fixed-width table for the terminal. */
export function renderConsoleTable(run) {
  const header = ['scenario', 'tenants', '2xx/s', 'p50', 'p99', 'errors', 'PG peak pool/all', 'budget'];
  const rows = run.scenarios.map((s) => [
    s.id,
    String(s.tenants),
    fmt.rate(okRate(s)),
    fmt.ms(s.load.latencyMs.p50),
    fmt.ms(s.load.latencyMs.p99),
    fmt.int(failures(s)),
    `${s.kind === 'floor' ? '–' : s.connections.peakTenantPool}/${s.connections.peakAll}`,
    s.kind === 'floor' ? `pool ${s.poolSize}` : String(s.budget),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const ratio = floorRatio(run);
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    ratio ? `Polystore(1 tenant) / floor: ${fmt.ratio(ratio.throughput)} throughput` : '',
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
