import type { Placement } from '#polystore/catalog';
import { parseServerUrl, type StoreSchema } from '#polystore/data-router';
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
  });
  try {
    const [rows] = await connection.query(`SELECT name FROM \`${table}\``);
    return (rows as Array<{ name: string }>).map((r) => r.name);
  } finally {
    await connection.end().catch(() => undefined);
  }
}
