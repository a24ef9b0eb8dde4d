import type { DataSourcePlacement } from '#polystore/data-router';
import pg from 'pg';
import { mariaQuery } from './mariadb.js';
import { TestServices } from './services.js';

/**
 * A data router's `resolvePlacement` for tests without a catalog: each tenant in a database of
 * its own, named by `databaseOf`, on the test PostgreSQL server.
 */
export function databasePerTenant(
  databaseOf: (tenant: string) => string,
): (tenant: string) => Promise<DataSourcePlacement> {
  return (tenant) =>
    Promise.resolve({
      tenant,
      serverUrl: TestServices.postgresUrl,
      database: databaseOf(tenant),
      kind: 'database',
      version: 1,
    });
}

/** Whether a server URL points at PostgreSQL (else MariaDB/MySQL). */
export const isPostgres = (serverUrl: string) => /^postgres(ql)?:/.test(serverUrl);

/**
 * Runs one query on a PostgreSQL or MariaDB/MySQL server (chosen by `serverUrl`'s scheme), in
 * `database` (default: the server's maintenance database), then disconnects. Write placeholders
 * as `?`: they become `$1, $2...` on PostgreSQL (no `?` may appear elsewhere in `sql`).
 */
export async function dbQuery<R extends Record<string, unknown> = Record<string, unknown>>(
  serverUrl: string,
  database: string | undefined,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  if (!isPostgres(serverUrl)) return mariaQuery<R>(sql, params, database, serverUrl);
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  const url = new URL(serverUrl);
  const client = new pg.Client({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: database ?? 'postgres',
  });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/** The names of the tables of `database`, sorted (the dialect's own catalog query). */
export async function tableNames(serverUrl: string, database: string): Promise<string[]> {
  const rows = isPostgres(serverUrl)
    ? await dbQuery<{ t: string }>(
        serverUrl,
        database,
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      )
    : await dbQuery<{ t: string }>(
        serverUrl,
        undefined,
        'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?',
        [database],
      );
  return rows.map((r) => r.t).sort();
}

/** `DROP DATABASE` by hand (what an operator's mistake would do), quoted per dialect. */
export async function dropDatabaseByHand(serverUrl: string, database: string): Promise<void> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(database)) throw new Error(`unexpected database name ${database}`);
  await dbQuery(
    serverUrl,
    undefined,
    isPostgres(serverUrl) ? `DROP DATABASE "${database}" WITH (FORCE)` : `DROP DATABASE \`${database}\``,
  );
}
