// Benchmark settings: environment knobs (documented in bench/README.md) and fixed choices.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/ is one level below it). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Where the built apps are: a directory holding `dist/`, `package.json` and `node_modules/`; the
 * repository root unless `BENCH_APPS_ROOT` names another (a snapshot of the build, so that a
 * rebuild of `dist/` by other work on the machine cannot pull the apps away mid-run).
 */
export const APPS_ROOT = process.env.BENCH_APPS_ROOT ? resolve(process.env.BENCH_APPS_ROOT) : ROOT;

/**
 * Where CPU profiles of the apps go when the run profiles them (`--profile` on the command line,
 * or `BENCH_PROFILE=1`): `bench/results/profiles/<time>/`, one `.cpuprofile` per process (written
 * when it exits; open it in speedscope or Chrome DevTools), summarized by `bench/profile-summary.mjs`.
 * Null otherwise.
 */
export const PROFILE_DIR =
  process.argv.includes('--profile') ||
  ['1', 'true', 'yes', 'on'].includes((process.env.BENCH_PROFILE ?? '').toLowerCase())
    ? resolve(ROOT, 'bench/results/profiles', new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19) + 'Z')
    : null;

/** Parses a non-negative integer knob (at least `min`), or returns `fallback` when unset; throws on garbage. */
function intKnob(env, name, fallback, min = 1) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min} (got "${raw}")`);
  return value;
}

/** Parses `BENCH_TENANTS` ("1,50,200,1000") into sorted, distinct tenant counts. */
function tenantCounts(env) {
  const raw = env.BENCH_TENANTS ?? '1,50,200,1000';
  const counts = raw.split(',').map((part) => Number(part.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) {
    throw new Error(`BENCH_TENANTS must be a comma list of integers in 1..2000 (got "${raw}")`);
  }
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** Whether an optional scenario is on ("0", "false", "no" and "off" turn it off). */
function flag(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(raw.toLowerCase());
}

/** An integer knob of this process's environment (at least `min`; `fallback` when unset): the benches' own knobs. */
export function envInt(name, fallback, min = 1) {
  return intKnob(process.env, name, fallback, min);
}

/** An on/off knob of this process's environment ("0", "false", "no" and "off" are off; `fallback` when unset). */
export function envFlag(name, fallback) {
  return flag(process.env, name, fallback);
}

/** Everything one run needs to know, read once from the environment. */
export function readSettings(env = process.env) {
  const durationS = intKnob(env, 'BENCH_DURATION_S', 20);
  // Warm-up: a few seconds, never longer than the measured window itself.
  const warmupS = intKnob(env, 'BENCH_WARMUP_S', Math.min(5, Math.max(2, Math.round(durationS / 4))));
  // A short random token keeps tenant names, the NATS prefix and instance ids of this run apart
  // from anything else on the machine (tests running at the same time, an earlier crashed run).
  const runId = randomBytes(4)
    .toString('hex')
    .replace(/^[0-9]/, 'b')
    .slice(0, 6);
  const counts = tenantCounts(env);
  const sharedPoolSize = intKnob(env, 'BENCH_SECURE_SHARED_POOL_SIZE', 20);
  return {
    runId,
    durationS,
    warmupS,
    tenantCounts: counts,
    connections: intKnob(env, 'BENCH_CONNECTIONS', 50),
    /** Also measure 1 tenant with SECURE_DB_TENANT_CAP = the whole shared pool (one extra restart). */
    capVariant: flag(env, 'BENCH_CAP_VARIANT', true),
    /** Tenants of the naive request-scoped baseline (0 skips it); the first N schema tenants. */
    naiveTenants: intKnob(env, 'BENCH_NAIVE_TENANTS', Math.min(50, counts.at(-1)), 0),
    /**
     * Connections of each tenant DataSource of the naive baseline: 1, so that 50 tenants hold 50
     * connections, under PostgreSQL's max_connections (100) with everything else on the server.
     */
    naivePoolSize: intKnob(env, 'BENCH_NAIVE_POOL_SIZE', 1),
    /** Tenants created with `database` placements (the layout before schemas) and measured (0 skips). */
    databaseTenants: intKnob(env, 'BENCH_DATABASE_TENANTS', 50, 0),
    /** Tenants created with the secure, reliable (MariaDB) and edge stores all running (0 skips). */
    allStoresTenants: intKnob(env, 'BENCH_ALL_STORES_TENANTS', 100, 0),
    /** Tenants created (and deleted) at once through the admin API. */
    adminConcurrency: intKnob(env, 'BENCH_ADMIN_CONCURRENCY', 8),
    /** pg_stat_activity sampling period. */
    sampleEveryMs: 50,
    /** The floor's pool size. */
    baselinePoolSize: 10,
    pgServerUrl: env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432',
    mariadbUrl: env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306',
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    /** Bench-only catalog, created by the gateway at start and dropped at the end. */
    catalogDatabase: 'polystore_bench_system',
    baseDomain: 'bench.test',
    appsRoot: APPS_ROOT,
    /**
     * The secure store's settings (its defaults, restated here to report them next to what was
     * measured). Schema placements share one pool per server (`sharedPoolSize`, capped by the
     * budget, `tenantCap` = 0: half of it per tenant); database placements get a pool of
     * `poolSize` each, within the same budget.
     */
    secure: {
      sharedPoolSize,
      tenantCap: 0,
      poolSize: intKnob(env, 'BENCH_SECURE_POOL_SIZE', 2),
      connectionBudget: intKnob(env, 'BENCH_SECURE_BUDGET', 40),
      serverSharePct: 25,
      serverReserve: 10,
      catalogPoolSize: 4,
    },
    masterKey: randomBytes(32).toString('base64'),
    deviceBrokerKey: randomBytes(32).toString('base64'),
    adminToken: `bench-admin-${randomBytes(18).toString('base64url')}`,
  };
}

/**
 * The budget the secure store derives on a server: `min(configured, floor((max_connections -
 * superuser_reserved - reserve) x share))`, and the shared pool it opens within it.
 */
export function effectiveSecureLimits(secure, server) {
  const usable = server.max_connections - server.superuser_reserved_connections;
  const budget = Math.max(
    1,
    Math.min(secure.connectionBudget, Math.floor((usable - secure.serverReserve) * (secure.serverSharePct / 100))),
  );
  const sharedPool = Math.min(secure.sharedPoolSize, budget);
  return { budget, sharedPool, tenantCap: secure.tenantCap || Math.ceil(sharedPool / 2) };
}
