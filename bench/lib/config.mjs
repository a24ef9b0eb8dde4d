// Benchmark settings: environment knobs (documented in bench/README.md) and fixed choices.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/ is one level below it). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Parses a positive integer knob, or returns `fallback` when unset; throws on garbage. */
function positiveInt(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got "${raw}")`);
  return value;
}

/** Parses `BENCH_TENANTS` ("1,50,300") into sorted, distinct tenant counts. */
function tenantCounts(env) {
  const raw = env.BENCH_TENANTS ?? '1,50,300';
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

/** Everything one run needs to know, read once from the environment. */
export function readSettings(env = process.env) {
  const durationS = positiveInt(env, 'BENCH_DURATION_S', 20);
  // Warm-up: a few seconds, never longer than the measured window itself.
  const warmupS = positiveInt(env, 'BENCH_WARMUP_S', Math.min(5, Math.max(2, Math.round(durationS / 4))));
  // A short random token keeps tenant names, the NATS prefix and instance ids of this run apart
  // from anything else on the machine (tests running at the same time, an earlier crashed run).
  const runId = randomBytes(4)
    .toString('hex')
    .replace(/^[0-9]/, 'b')
    .slice(0, 6);
  return {
    runId,
    durationS,
    warmupS,
    tenantCounts: tenantCounts(env),
    connections: positiveInt(env, 'BENCH_CONNECTIONS', 50),
    /** Also measure 1 tenant with SECURE_DB_POOL_SIZE=10 (one extra secure-store restart). */
    poolVariant: flag(env, 'BENCH_POOL_VARIANT', true),
    poolVariantSize: 10,
    /** Tenants created (and deleted) at once through the admin API. */
    adminConcurrency: positiveInt(env, 'BENCH_ADMIN_CONCURRENCY', 4),
    /** pg_stat_activity sampling period. */
    sampleEveryMs: 50,
    /** The floor's pool size (the brief: 10). */
    baselinePoolSize: 10,
    pgServerUrl: env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432',
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    /** Bench-only catalog, created by the gateway at start and dropped at the end. */
    catalogDatabase: 'polystore_bench_system',
    baseDomain: 'bench.test',
    /** The secure store's defaults, restated here to report them next to what was measured. */
    secure: {
      poolSize: positiveInt(env, 'BENCH_SECURE_POOL_SIZE', 2),
      connectionBudget: positiveInt(env, 'BENCH_SECURE_BUDGET', 40),
      catalogPoolSize: 4,
    },
    masterKey: randomBytes(32).toString('base64'),
    adminToken: `bench-admin-${randomBytes(18).toString('base64url')}`,
  };
}
