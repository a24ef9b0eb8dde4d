import pg from 'pg';
import { TestServices } from './services.js';

/** Runs one query on the test PostgreSQL server (maintenance database), then disconnects. */
export async function pgQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
  database = 'postgres',
): Promise<R[]> {
  const url = new URL(TestServices.postgresUrl);
  const client = new pg.Client({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
  });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A PostgreSQL login: a name and, on a server that checks passwords, its password. */
export interface PgLogin {
  readonly username: string;
  readonly password?: string;
}

/**
 * Runs `sql` (one simple query: several statements allowed without parameters) as `login` in
 * `database` on the PostgreSQL server at 127.0.0.1:`port`, then disconnects; rejects with the
 * server's error (its SQLSTATE in `code`).
 */
export async function pgQueryAs<R extends pg.QueryResultRow = pg.QueryResultRow>(
  port: number,
  login: PgLogin,
  database: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: login.username, password: login.password, database });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Connections currently open by clients whose `application_name` is `applicationName`. */
export async function countConnections(applicationName: string): Promise<number> {
  const rows = await pgQuery<{ n: string }>(
    'SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  );
  return Number(rows[0]!.n);
}

/** Drops every database whose name starts with `prefix` (test cleanup). */
export async function dropDatabasesLike(prefix: string): Promise<void> {
  const rows = await pgQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
    `${prefix}%`,
  ]);
  for (const { datname } of rows) {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(datname)) continue;
    await pgQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}

/**
 * Samples, as fast as one connection allows, the number of connections opened under
 * `applicationName`, until `stop()`; returns the peak seen.
 */
export function sampleConnections(applicationName: string): { stop(): Promise<number> } {
  const url = new URL(TestServices.postgresUrl);
  const client = new pg.Client({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: 'postgres',
  });
  let running = true;
  let peak = 0;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      peak = Math.max(peak, Number(rows[0]!.n));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}
