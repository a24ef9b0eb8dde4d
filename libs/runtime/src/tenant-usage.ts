import { CodedError, ErrorKind } from '#polystore/platform';
import { dialectFamilyOf, type DataSourceRouter } from '#polystore/data-router';
import type { TenantUsageView } from '#polystore/messaging';
import type { EntityManager, MongoEntityManager } from 'typeorm';

/**
 * Bytes of the current tenant's tables in its schema (a schema placement) or database, indexes
 * and TOAST included (`pg_total_relation_size`): what the tenant costs the server, without the
 * catalogs every database has.
 */
const POSTGRES_BYTES = `
  SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::text AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')`;

/**
 * Data and index bytes of the tables of the tenant's database (the unit of work is bound to it).
 * InnoDB's figures are estimates refreshed with the table statistics: pages allocated, not rows.
 */
const MYSQL_BYTES = `
  SELECT CAST(COALESCE(SUM(data_length + index_length), 0) AS CHAR) AS bytes
    FROM information_schema.tables
   WHERE table_schema = DATABASE()`;

/**
 * What the current tenant's data takes in this store: bytes as the engine reports them (null on
 * MongoDB, which is not measured), and the exact row count of each of `tables`. A table must be
 * one of the store's own entities (its name comes from the store's metadata, never from the
 * request): anything else is `USAGE_UNKNOWN_TABLE`. With `migration`, also the newest migration
 * recorded in the store's migrations table of the tenant's schema or database (what `migrate`
 * last applied there). One unit of work on the tenant's placement.
 */
export function measureTenantUsage(
  router: DataSourceRouter,
  tables: readonly string[],
  migration = false,
): Promise<TenantUsageView> {
  return router.run(async (db) => {
    const entities = new Map(db.connection.entityMetadatas.map((m) => [m.tableName, m.target]));
    const unknown = tables.find((table) => !entities.has(table));
    if (unknown !== undefined)
      throw new CodedError('USAGE_UNKNOWN_TABLE', ErrorKind.INVALID_ARGUMENT, `count: no table ${unknown} here`, {
        errors: [`count: no table ${unknown} in this store`],
      });
    const family = dialectFamilyOf(db);
    const counts: Record<string, number> = {};
    for (const table of new Set(tables)) {
      counts[table] =
        family === 'mongodb'
          ? await (db as MongoEntityManager).count(entities.get(table)!)
          : await countRows(db, table);
    }
    if (family === 'mongodb') return { bytes: null, counts, ...(migration ? { migration: null } : {}) };
    const rows: Array<{ bytes: string | number }> = await db.query(
      family === 'postgres' ? POSTGRES_BYTES : MYSQL_BYTES,
    );
    return {
      bytes: Number(rows[0]?.bytes ?? 0),
      counts,
      ...(migration ? { migration: await newestMigration(db) } : {}),
    };
  });
}

/**
 * The newest migration TypeORM recorded in the store's migrations table (its name from the
 * store's schema, never from the request), read unqualified: the unit of work is bound to the
 * tenant's schema or database. Null when none is recorded.
 */
async function newestMigration(db: EntityManager): Promise<string | null> {
  const driver = db.connection.driver;
  const table = driver.escape(db.connection.options.migrationsTableName ?? 'migrations');
  const rows: Array<{ name: string }> = await db.query(
    `SELECT ${driver.escape('name')} AS name FROM ${table} ORDER BY ${driver.escape('timestamp')} DESC, ${driver.escape('id')} DESC LIMIT 1`,
  );
  return rows[0]?.name ?? null;
}

async function countRows(db: EntityManager, table: string): Promise<number> {
  const rows: Array<{ n: string | number }> = await db.query(
    `SELECT COUNT(*) AS n FROM ${db.connection.driver.escape(table)}`,
  );
  return Number(rows[0]?.n ?? 0);
}
