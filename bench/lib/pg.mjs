// Direct PostgreSQL access of the bench itself: server facts, leftover cleanup, and the
// pg_stat_activity sampler that measures peak connections during a scenario.
import pg from 'pg';

/** `postgres://user@host:port` + database -> a pg.Client config. */
export function clientConfig(serverUrl, database, applicationName) {
  const url = new URL(serverUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
    application_name: applicationName,
  };
}

/** `postgres://user@host:port/<database>` (what an app is given). */
export function databaseUrl(serverUrl, database) {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs one query on a short-lived connection to `database` (the maintenance database `postgres` by default). */
export async function adminQuery(serverUrl, sql, params = [], database = 'postgres') {
  const client = new pg.Client(clientConfig(serverUrl, database, 'polystore-bench-admin'));
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** `SELECT version()`, `max_connections` and `superuser_reserved_connections`. */
export async function serverFacts(serverUrl) {
  const [row] = await adminQuery(
    serverUrl,
    `SELECT version() AS version, current_setting('max_connections')::int AS max_connections,
            current_setting('superuser_reserved_connections')::int AS superuser_reserved_connections`,
  );
  return row;
}

/** Names of existing databases matching the regular expression `pattern`. */
export async function databasesMatching(serverUrl, pattern) {
  const rows = await adminQuery(serverUrl, 'SELECT datname FROM pg_database WHERE datname ~ $1 ORDER BY datname', [
    pattern,
  ]);
  return rows.map((r) => r.datname);
}

/**
 * The benchmarks' catalogs (`polystore_bench_system` of run.mjs, `polystore_bench_<bench>_system`
 * of reliable.mjs, edge.mjs, saga.mjs and tenants.mjs, `polystore_qsb_<run>_<round>` of
 * quickstart.mjs), and tenant names derived from a tenant id (`ps_<store>_<32 hex>`).
 */
const BENCH_CATALOG =
  /^polystore_(bench(_(reliable|edge|saga|tenants|galera_single|galera_cluster))?_system|qsb_[a-z0-9]+_[0-9]+)$/;
const TENANT_NAME = /^ps_(secure|edge|reliable)_[0-9a-f]{32}$/;
const SHARED_DATABASE = /^polystore_(secure|edge|reliable)$/;

/**
 * Drops databases (closing their connections first). Only the benchmarks' catalogs and tenant
 * databases named from a tenant id are accepted, and callers pass only names read from a
 * benchmark's own catalog.
 */
export async function dropDatabases(serverUrl, names) {
  for (const name of names) {
    if (!BENCH_CATALOG.test(name) && !TENANT_NAME.test(name)) throw new Error(`refusing to drop database ${name}`);
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

/**
 * Drops tenant schemas (with everything in them) and their roles in a store's shared database
 * (`polystore_secure`, ...), as the store's own drop does. Only tenant names read from the bench's
 * catalog are passed. Returns how many schemas existed.
 */
export async function dropSchemas(serverUrl, database, schemas) {
  if (!SHARED_DATABASE.test(database)) throw new Error(`refusing to drop schemas in ${database}`);
  if (schemas.length === 0) return 0;
  for (const schema of schemas) if (!TENANT_NAME.test(schema)) throw new Error(`refusing to drop schema ${schema}`);
  const client = new pg.Client(clientConfig(serverUrl, database, 'polystore-bench-admin'));
  await client.connect();
  try {
    const { rows } = await client.query('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)', [schemas]);
    for (const schema of schemas) {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      // As the store's own drop: what else the role owns here (a schema a move kept), then the role.
      await client.query(
        `DO $$ BEGIN
           IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${schema}') THEN
             EXECUTE 'DROP OWNED BY "${schema}"';
             EXECUTE 'DROP ROLE "${schema}"';
           END IF;
         END $$`,
      );
    }
    return rows.length;
  } finally {
    await client.end();
  }
}

/**
 * The placements recorded in the bench's catalog (`[{ store, kind, server, database, schema }]`),
 * or null when the catalog does not exist. Every tenant the bench ever created is there until
 * the admin API deletes it: what is left at cleanup (or after a crashed run) is read from here.
 */
export async function catalogPlacements(serverUrl, catalogDatabase) {
  const [exists] = await adminQuery(serverUrl, 'SELECT 1 AS ok FROM pg_database WHERE datname = $1', [catalogDatabase]);
  if (!exists) return null;
  const client = new pg.Client(clientConfig(serverUrl, catalogDatabase, 'polystore-bench-admin'));
  await client.connect();
  try {
    const { rows: tables } = await client.query("SELECT to_regclass('placements') IS NOT NULL AS ok");
    if (!tables[0].ok) return [];
    const { rows } = await client.query(
      `SELECT store, kind, server_url AS server, database_name AS database, schema_name AS schema FROM placements`,
    );
    return rows;
  } finally {
    await client.end();
  }
}

/**
 * Samples pg_stat_activity every `everyMs` on one persistent connection and keeps, per window,
 * the peak and mean of three counts:
 *  - `all`: every client backend on the server (other users of the server included), minus the
 *    sampler's own connection;
 *  - `tenantPool`: the tenant connections of the system under test (set per scenario with
 *    {@link track}: the secure store's shared pool and own pools, the floor's pool, the naive
 *    baseline's DataSources), by application_name prefix;
 *  - `ours`: connections of the processes this run started (catalog pools included);
 * and `newBackends`: tenant connections first seen during the window (connections opened; one
 * that lives less than a sampling period can be missed).
 */
export class ConnectionSampler {
  constructor({ serverUrl, everyMs, ourNames }) {
    this.serverUrl = serverUrl;
    this.everyMs = everyMs;
    this.ourNames = ourNames;
    this.poolNames = [];
    this.knownPids = new Set();
    this.client = null;
    this.timer = null;
    this.stopped = false;
    this.window = emptyWindow();
    this.errors = 0;
  }

  async start() {
    this.client = new pg.Client(clientConfig(this.serverUrl, 'postgres', 'polystore-bench-sampler'));
    await this.client.connect();
    this.loop();
  }

  /** The application_name prefixes of the scenario's tenant connections (from now on). */
  track(poolNames) {
    this.poolNames = poolNames;
    this.knownPids = new Set();
  }

  /** Connection names are matched by prefix (the baselines add their pid). */
  async sample() {
    const { rows } = await this.client.query(
      `SELECT count(*) FILTER (WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::int AS all,
              count(*) FILTER (WHERE application_name LIKE ANY($2))::int AS ours,
              coalesce(array_agg(pid) FILTER (WHERE application_name LIKE ANY($1)), '{}') AS pool_pids
         FROM pg_stat_activity`,
      [this.poolNames.map((n) => `${n}%`), this.ourNames.map((n) => `${n}%`)],
    );
    return rows[0];
  }

  /** One sample per period; a slow sample delays the next instead of piling up. */
  loop() {
    if (this.stopped) return;
    const started = Date.now();
    this.sample()
      .then((row) => this.record(row))
      .catch(() => this.errors++)
      .finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(() => this.loop(), Math.max(0, this.everyMs - (Date.now() - started)));
      });
  }

  record(row) {
    const w = this.window;
    const counts = { all: row.all, ours: row.ours, tenant_pool: row.pool_pids.length };
    w.samples++;
    for (const key of ['all', 'tenant_pool', 'ours']) {
      w.peak[key] = Math.max(w.peak[key], counts[key]);
      w.sum[key] += counts[key];
    }
    for (const pid of row.pool_pids) {
      if (this.knownPids.has(pid)) continue;
      this.knownPids.add(pid);
      w.newBackends++;
    }
  }

  /**
   * Sessions (connections) ever established to the databases whose name matches `pattern`
   * (pg_stat_database.sessions, PostgreSQL 14+; null before). The difference over a window is
   * the number of connections opened to those databases during it (by anyone: only meaningful
   * for databases of this run alone).
   */
  async sessions(pattern) {
    try {
      const { rows } = await this.client.query(
        'SELECT coalesce(sum(sessions), 0)::bigint AS n FROM pg_stat_database WHERE datname ~ $1',
        [pattern],
      );
      return Number(rows[0].n);
    } catch {
      return null;
    }
  }

  /** Ends the current window: returns its peaks and means, and starts a new one. */
  takeWindow() {
    const w = this.window;
    this.window = emptyWindow();
    const mean = (key) => (w.samples ? Math.round((w.sum[key] / w.samples) * 10) / 10 : null);
    return {
      samples: w.samples,
      peakAll: w.peak.all,
      peakTenantPool: w.peak.tenant_pool,
      peakOurs: w.peak.ours,
      meanAll: mean('all'),
      meanTenantPool: mean('tenant_pool'),
      meanOurs: mean('ours'),
      tenantBackendsOpened: w.newBackends,
    };
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.client?.end().catch(() => undefined);
  }
}

function emptyWindow() {
  return {
    samples: 0,
    newBackends: 0,
    peak: { all: 0, tenant_pool: 0, ours: 0 },
    sum: { all: 0, tenant_pool: 0, ours: 0 },
  };
}

/** The system catalogs that tenant churn (schemas, tables and roles created and dropped) fills with dead rows. */
const CHURNED_CATALOGS = [
  'pg_attribute',
  'pg_class',
  'pg_depend',
  'pg_type',
  'pg_namespace',
  'pg_index',
  'pg_constraint',
];
const CHURNED_SHARED_CATALOGS = ['pg_authid', 'pg_auth_members', 'pg_shdepend'];

/**
 * When the server runs without autovacuum (this development machine's PostgreSQL does), every
 * earlier run's tenants leave their catalog rows behind as dead tuples (seen here: 2.4 million in
 * `pg_attribute`, 500 MB), and DDL and the backends' catalog lookups slow down run after run. The
 * bench then vacuums those catalogs in `databases` (and the shared ones) before it measures, and
 * says so; with autovacuum on it leaves the server alone. Returns what it found and did.
 */
export async function vacuumChurnedCatalogs(serverUrl, databases) {
  const [{ autovacuum }] = await adminQuery(serverUrl, "SELECT current_setting('autovacuum') AS autovacuum");
  if (autovacuum === 'on') return { autovacuum, vacuumed: false, bytesBefore: 0, bytesAfter: 0 };
  const existing = new Set(
    (await adminQuery(serverUrl, 'SELECT datname FROM pg_database WHERE datname = ANY($1)', [databases])).map(
      (r) => r.datname,
    ),
  );
  let bytesBefore = 0;
  let bytesAfter = 0;
  for (const database of ['postgres', ...databases.filter((d) => existing.has(d))]) {
    const tables = database === 'postgres' ? [...CHURNED_CATALOGS, ...CHURNED_SHARED_CATALOGS] : CHURNED_CATALOGS;
    // Sizes, not pg_stat's dead-row counts: those are not reset by VACUUM FULL, so they go stale.
    const size = async () =>
      Number(
        (
          await adminQuery(
            serverUrl,
            `SELECT coalesce(sum(pg_total_relation_size(('pg_catalog.' || t)::regclass)), 0)::bigint AS bytes
               FROM unnest($1::text[]) AS t`,
            [tables],
            database,
          )
        )[0].bytes,
      );
    bytesBefore += await size();
    await adminQuery(serverUrl, `VACUUM FULL ${tables.map((t) => `pg_catalog.${t}`).join(', ')}`, [], database);
    bytesAfter += await size();
  }
  return { autovacuum, vacuumed: true, bytesBefore, bytesAfter };
}
