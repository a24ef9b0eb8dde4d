import type { Placement } from '#polystore/catalog';
import { mysqlSslOptions, parseServerUrl, pgSslOptions, type StoreSchema } from '#polystore/data-router';
import mysql from 'mysql2/promise';
import pg from 'pg';

const CONNECT_TIMEOUT_MS = 5_000;
/** The migrations table names the stores use (the only identifiers this module puts in SQL). */
const TABLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** The names TypeORM records for a schema's migrations (`name`, else the class name). */
export function migrationNames(schema: StoreSchema): string[] {
  const migrations = Array.isArray(schema.migrations) ? (schema.migrations as unknown[]) : [];
  return migrations.map((migration) => {
    if (typeof migration !== 'function') throw new Error('store migrations must be classes');
    const instance = new (migration as new () => { name?: string })();
    return instance.name ?? migration.name;
  });
}

/**
 * Whether every migration of `schema` is recorded in the placement's database (in the tenant's
 * own schema for a `schema` placement), read on one
 * plain driver connection (no TypeORM DataSource, one statement): the fast answer for a
 * database that is current, which most are. `undefined` when this cannot tell (MongoDB, no
 * migrations table yet): the caller then takes the full path, which also reports errors.
 */
export async function isCurrent(placement: Placement, schema: StoreSchema): Promise<boolean | undefined> {
  const address = parseServerUrl(placement.serverUrl);
  const table = schema.migrationsTableName ?? 'migrations';
  if (address.dialect === 'mongodb' || !TABLE_NAME.test(table) || !Array.isArray(schema.migrations)) return undefined;
  if (placement.schema !== undefined && !TABLE_NAME.test(placement.schema)) return undefined;
  const expected = migrationNames(schema);
  let recorded: string[];
  try {
    recorded =
      address.dialect === 'postgres'
        ? await readPostgres(
            address,
            placement.database,
            placement.schema ? `"${placement.schema}"."${table}"` : `"${table}"`,
          )
        : await readMysql(address, placement.database, table);
  } catch {
    return undefined;
  }
  const names = new Set(recorded);
  return expected.every((name) => names.has(name));
}

/** Schemas read in one statement when the fleet's state is read (a UNION ALL over their migrations tables). */
const SCHEMAS_PER_STATEMENT = 500;

/**
 * The migration state of a whole fleet of `schema` placements, read from each shared database
 * with a couple of statements (every schema holding the store's migrations table, then one
 * UNION ALL over up to 500 of them at a time), instead of a connection and a read per tenant:
 * the first tenant of a shared database pays for all of them, the others get the answer from
 * memory. Other placements fall back to {@link isCurrent}. One instance per `migrate` run, so
 * nothing is remembered from one run to the next.
 */
export class FleetMigrationState {
  private readonly sharedDatabases = new Map<string, Promise<Set<string> | undefined>>();

  /** Like {@link isCurrent}, reading a `schema` placement's answer from its shared database's state. */
  isCurrent(placement: Placement, schema: StoreSchema): Promise<boolean | undefined> {
    const table = schema.migrationsTableName ?? 'migrations';
    if (!placement.schema || !TABLE_NAME.test(table) || !Array.isArray(schema.migrations))
      return isCurrent(placement, schema);
    const key = `${placement.serverId}/${placement.database}/${table}`;
    let current = this.sharedDatabases.get(key);
    if (!current) {
      current = currentSchemas(placement, table, migrationNames(schema)).catch(() => undefined);
      this.sharedDatabases.set(key, current);
    }
    return current.then((schemas) =>
      schemas ? schemas.has(placement.schema!) || isCurrent(placement, schema) : isCurrent(placement, schema),
    );
  }
}

/** The schemas of a shared database whose migrations table records every one of `expected`. */
async function currentSchemas(placement: Placement, table: string, expected: string[]): Promise<Set<string>> {
  const address = parseServerUrl(placement.serverUrl);
  const client = new pg.Client({
    host: address.host,
    port: address.port,
    user: address.username,
    password: address.password,
    database: placement.database,
    application_name: 'polystore-migrate',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ssl: pgSslOptions(address),
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ schema: string }>(
      'SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = $1',
      [table],
    );
    const schemas = rows.map((r) => r.schema).filter((name) => TABLE_NAME.test(name));
    const current = new Set<string>();
    for (let i = 0; i < schemas.length; i += SCHEMAS_PER_STATEMENT) {
      const sql = schemas
        .slice(i, i + SCHEMAS_PER_STATEMENT)
        .map(
          (name) =>
            `SELECT '${name}' AS schema, count(*) FILTER (WHERE name = ANY($1))::int AS n FROM "${name}"."${table}"`,
        )
        .join(' UNION ALL ');
      const counts = await client.query<{ schema: string; n: number }>(sql, [expected]);
      for (const row of counts.rows) if (row.n === expected.length) current.add(row.schema);
    }
    return current;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readPostgres(
  address: ReturnType<typeof parseServerUrl>,
  database: string,
  qualifiedTable: string,
): Promise<string[]> {
  const client = new pg.Client({
    host: address.host,
    port: address.port,
    user: address.username,
    password: address.password,
    database,
    application_name: 'polystore-migrate',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ssl: pgSslOptions(address),
  });
  await client.connect();
  try {
    return (await client.query<{ name: string }>(`SELECT name FROM ${qualifiedTable}`)).rows.map((r) => r.name);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readMysql(
  address: ReturnType<typeof parseServerUrl>,
  database: string,
  table: string,
): Promise<string[]> {
  const connection = await mysql.createConnection({
    host: address.host,
    port: address.port,
    user: address.username,
    password: address.password,
    database,
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...(address.tls ? { ssl: mysqlSslOptions(address) } : {}),
  });
  try {
    const [rows] = await connection.query(`SELECT name FROM \`${table}\``);
    return (rows as Array<{ name: string }>).map((r) => r.name);
  } finally {
    await connection.end().catch(() => undefined);
  }
}
