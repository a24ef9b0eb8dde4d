// Reading a tenant's rows where its placement puts them, for the benchmarks' own checks (devices
// stored, readings stored, usage records): a `schema` placement is a schema inside the store's
// shared PostgreSQL database (`polystore_<store>`), queried schema-qualified on a connection to
// that database; a `database` (or `dedicated`) placement is a database of its own. Placements
// are `{ store, kind, server, database, schema? }` as GET /admin/tenants or the catalog list them.
import mysql from 'mysql2/promise';
import pg from 'pg';
import { clientConfig } from './pg.mjs';

/** Identifiers the bench puts in SQL: tenant schemas / databases, the stores' table names. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

const identifier = (name) => {
  if (!IDENTIFIER.test(name)) throw new Error(`unexpected identifier ${JSON.stringify(name)}`);
  return name;
};

export const isPostgresPlacement = (p) => /^postgres(ql)?:/.test(p.server);
export const isMysqlPlacement = (p) => /^(mysql|mariadb):/.test(p.server);

/**
 * `table` of the placement, qualified for a query on a connection to `placement.database`
 * (PostgreSQL: `"<schema>"."<table>"` for a schema placement, else `"<table>"`) or on a MariaDB
 * connection with no database selected (`` `<database>`.`<table>` ``).
 */
export function placementTable(placement, table) {
  if (isMysqlPlacement(placement)) return `\`${identifier(placement.database)}\`.\`${identifier(table)}\``;
  if (!isPostgresPlacement(placement)) throw new Error(`unsupported server ${placement.server}`);
  if (placement.kind === 'schema') {
    if (!placement.schema) throw new Error(`schema placement without a schema: ${JSON.stringify(placement)}`);
    return `"${identifier(placement.schema)}"."${identifier(table)}"`;
  }
  return `"${identifier(table)}"`;
}

/** The one placement of `store` among `placements` (one tenant's), or an error naming the tenant. */
export function placementOf(placements, store, tenant) {
  const found = placements?.find((p) => p.store === store);
  if (!found) throw new Error(`no ${store} placement listed for ${tenant}`);
  return found;
}

function mysqlConfig(serverUrl) {
  const url = new URL(serverUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

/**
 * Runs `query(placement) -> { sql, params }` once per placement and returns every row of each,
 * in order: PostgreSQL placements on one connection per database (a shared database's schemas on
 * one connection, `settings.pgServerUrl`), MariaDB placements on one connection
 * (`settings.mariadbUrl`). The servers' credentials come from the bench's settings: the listed
 * `server` carries none.
 */
export async function queryRowsEachPlacement(settings, placements, query) {
  const results = new Array(placements.length);
  const byDatabase = new Map();
  const onMysql = [];
  placements.forEach((p, index) => {
    if (isMysqlPlacement(p)) onMysql.push(index);
    else if (isPostgresPlacement(p)) byDatabase.set(p.database, [...(byDatabase.get(p.database) ?? []), index]);
    else throw new Error(`unsupported server ${p.server}`);
  });
  for (const [database, indexes] of byDatabase) {
    const client = new pg.Client(clientConfig(settings.pgServerUrl, database, 'polystore-bench-check'));
    await client.connect();
    try {
      for (const index of indexes) {
        const { sql, params = [] } = query(placements[index]);
        results[index] = (await client.query(sql, params)).rows;
      }
    } finally {
      await client.end();
    }
  }
  if (onMysql.length > 0) {
    const connection = await mysql.createConnection(mysqlConfig(settings.mariadbUrl));
    try {
      for (const index of onMysql) {
        const { sql, params = [] } = query(placements[index]);
        results[index] = (await connection.query(sql, params))[0];
      }
    } finally {
      await connection.end();
    }
  }
  return results;
}

/** Like {@link queryRowsEachPlacement}, but only the first row of each placement. */
export async function queryEachPlacement(settings, placements, query) {
  return (await queryRowsEachPlacement(settings, placements, query)).map((rows) => rows[0]);
}

/**
 * Rows of `table` in each placement (`where`: an optional condition without parameters, the same
 * for every placement); returns the counts in the placements' order.
 */
export async function countRows(settings, placements, table, where = '') {
  const rows = await queryEachPlacement(settings, placements, (p) => ({
    sql: `SELECT count(*) AS n FROM ${placementTable(p, table)}${where ? ` WHERE ${where}` : ''}`,
  }));
  return rows.map((row) => Number(row.n));
}
