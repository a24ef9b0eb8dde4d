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

/** Runs one query on a short-lived connection to the `postgres` database. */
export async function adminQuery(serverUrl, sql, params = []) {
  const client = new pg.Client(clientConfig(serverUrl, 'postgres', 'polystore-bench-admin'));
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** `SELECT version()` and `max_connections`. */
export async function serverFacts(serverUrl) {
  const [row] = await adminQuery(
    serverUrl,
    `SELECT version() AS version, current_setting('max_connections')::int AS max_connections`,
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
 * Drops databases (closing their connections first). Only names the bench generated are ever
 * passed here, and they are checked again against the bench's own patterns before any SQL.
 */
export async function dropDatabases(serverUrl, names) {
  for (const name of names) {
    if (!/^(polystore_bench_system|ps_secure_bench_[a-z0-9]+_[0-9]+)$/.test(name))
      throw new Error(`refusing to drop ${name}`);
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

/**
 * Samples pg_stat_activity every `everyMs` on one persistent connection and keeps, per window,
 * the peak and mean of three counts:
 *  - `all`: every client backend on the server (other users of the server included), minus the
 *    sampler's own connection;
 *  - `tenantPool`: connections whose application_name is the secure store's tenant pool;
 *  - `ours`: connections of the processes this run started (gateway and store catalogs, tenant
 *    pool, the floor).
 */
export class ConnectionSampler {
  constructor({ serverUrl, everyMs, tenantPoolName, ourNames }) {
    this.serverUrl = serverUrl;
    this.everyMs = everyMs;
    this.tenantPoolName = tenantPoolName;
    this.ourNames = ourNames;
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

  /** Connection names may be matched by prefix (the floor adds its pid). */
  async sample() {
    const { rows } = await this.client.query(
      `SELECT count(*) FILTER (WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::int AS all,
              count(*) FILTER (WHERE application_name = $1)::int AS tenant_pool,
              count(*) FILTER (WHERE application_name LIKE ANY($2))::int AS ours
         FROM pg_stat_activity`,
      [this.tenantPoolName, this.ourNames.map((n) => `${n}%`)],
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
    w.samples++;
    for (const key of ['all', 'tenant_pool', 'ours']) {
      w.peak[key] = Math.max(w.peak[key], row[key]);
      w.sum[key] += row[key];
    }
  }

  /**
   * Sessions (connections) ever established to the databases whose name matches `pattern`
   * (pg_stat_database.sessions, PostgreSQL 14+; null before). The difference over a window is
   * the number of connections opened to those databases during it.
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
    };
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.client?.end().catch(() => undefined);
  }
}

function emptyWindow() {
  return { samples: 0, peak: { all: 0, tenant_pool: 0, ours: 0 }, sum: { all: 0, tenant_pool: 0, ours: 0 } };
}
