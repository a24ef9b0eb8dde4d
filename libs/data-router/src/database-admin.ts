import { DataSource } from 'typeorm';
import { connectionOptions, maintenanceDatabase } from './internal/connection-options.js';
import { failureReason, isUnreachable } from './internal/failure.js';
import { DataRouterException } from './data-router.exception.js';
import { assertDatabaseName, parseServerUrl, quoteDatabaseName, type ServerAddress } from './placement.js';

const ADMIN_SETTINGS = { poolSize: 1, applicationName: 'polystore-admin', connectTimeoutMs: 5_000 };

async function withAdminConnection<T>(address: ServerAddress, work: (ds: DataSource) => Promise<T>): Promise<T> {
  const ds = new DataSource(
    connectionOptions(address, maintenanceDatabase(address.dialect), { entities: [] }, ADMIN_SETTINGS),
  );
  try {
    await ds.initialize();
  } catch (error) {
    throw DataRouterException.unavailable(address.id, failureReason(error), error);
  }
  try {
    return await work(ds);
  } finally {
    await ds.destroy().catch(() => undefined);
  }
}

/**
 * MongoDB: a short-lived TypeORM `mongodb` DataSource (same connection options as the router's,
 * credentials authenticated against `admin`) gives the driver's client for admin commands.
 */
function mongoClientOf(ds: DataSource) {
  return ds.mongoManager.mongoQueryRunner.databaseConnection;
}

async function mongoDatabaseExists(ds: DataSource, database: string): Promise<boolean> {
  const { databases } = await mongoClientOf(ds)
    .db('admin')
    .admin()
    .listDatabases({ nameOnly: true, filter: { name: database } });
  return databases.some((d) => d.name === database);
}

const DUPLICATE_DATABASE = new Set(['42P04', 'ER_DB_CREATE_EXISTS']);

/**
 * The database exists already. On PostgreSQL, two CREATE DATABASE of one name racing each
 * other (processes starting together on a new system database) fail the loser with a unique
 * violation on `pg_database`, not with 42P04.
 */
function isDuplicateDatabase(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError;
  if (!driverError?.code) return false;
  return (
    DUPLICATE_DATABASE.has(driverError.code) ||
    (driverError.code === '23505' && driverError.constraint === 'pg_database_datname_index')
  );
}

/**
 * Creating and dropping whole databases on a server: the administrative side of placements.
 * Names are validated against `^[a-z][a-z0-9_]{0,62}$` and quoted; they come from the catalog.
 * Every operation is idempotent.
 */
export const DatabaseAdmin = {
  /** Creates `database` on the server unless it exists; true when this call created it. */
  async ensureDatabase(serverUrl: string, database: string): Promise<boolean> {
    assertDatabaseName(database);
    const address = parseServerUrl(serverUrl);
    if (address.dialect === 'mongodb') return false; // MongoDB creates databases on first write.
    return withAdminConnection(address, async (ds) => {
      if (await exists(ds, address, database)) return false;
      try {
        const charset = address.dialect === 'postgres' ? '' : ' CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
        await ds.query(`CREATE DATABASE ${quoteDatabaseName(address.dialect, database)}${charset}`);
        return true;
      } catch (error) {
        if (isDuplicateDatabase(error)) return false;
        if (isUnreachable(error)) throw DataRouterException.unavailable(address.id, failureReason(error), error);
        throw error;
      }
    });
  },

  /**
   * Drops `database` (terminating its sessions on PostgreSQL; MongoDB's `dropDatabase` command);
   * true when it existed.
   */
  async dropDatabase(serverUrl: string, database: string): Promise<boolean> {
    assertDatabaseName(database);
    const address = parseServerUrl(serverUrl);
    if (address.dialect === 'mongodb') {
      return withAdminConnection(address, async (ds) => {
        if (!(await mongoDatabaseExists(ds, database))) return false;
        await mongoClientOf(ds).db(database).dropDatabase();
        return true;
      });
    }
    return withAdminConnection(address, async (ds) => {
      if (!(await exists(ds, address, database))) return false;
      const force = address.dialect === 'postgres' ? ' WITH (FORCE)' : '';
      await ds.query(`DROP DATABASE IF EXISTS ${quoteDatabaseName(address.dialect, database)}${force}`);
      return true;
    });
  },

  /** True when `database` exists on the server (on MongoDB: once something was written to it). */
  async databaseExists(serverUrl: string, database: string): Promise<boolean> {
    assertDatabaseName(database);
    const address = parseServerUrl(serverUrl);
    if (address.dialect === 'mongodb') return withAdminConnection(address, (ds) => mongoDatabaseExists(ds, database));
    return withAdminConnection(address, (ds) => exists(ds, address, database));
  },
};

async function exists(ds: DataSource, address: ServerAddress, database: string): Promise<boolean> {
  const rows: unknown[] =
    address.dialect === 'postgres'
      ? await ds.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
      : await ds.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [database]);
  return rows.length > 0;
}
