import { Logger } from '@nestjs/common';
import {
  DatabaseAdmin,
  migrateDatabase,
  parseServerUrl,
  pgSslOptions,
  ServerRoles,
  sqlStateOf,
} from '#polystore/data-router';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { PlacementEntity } from './entities/placement.entity.js';
import { TenantEntity } from './entities/tenant.entity.js';
import { CatalogInit1764201600000 } from './migrations/1764201600000-catalog-init.js';
import { CatalogPlacementKinds1764206000000 } from './migrations/1764206000000-catalog-placement-kinds.js';
import { CatalogApiKeyResource1764208500000 } from './migrations/1764208500000-catalog-api-key-resource.js';
import { CatalogTenantRetirement1764208510000 } from './migrations/1764208510000-catalog-tenant-retirement.js';
import { CatalogKeyLabel1764208520000 } from './migrations/1764208520000-catalog-key-label.js';
import { CatalogAuditCheckpoints1764208800000 } from './migrations/1764208800000-catalog-audit-checkpoints.js';
import { CatalogTenantQuotas1764208900000 } from './migrations/1764208900000-catalog-tenant-quotas.js';
import { CatalogAdminAudit1764209000000 } from './migrations/1764209000000-catalog-admin-audit.js';
import { CatalogOperations1764209100000 } from './migrations/1764209100000-catalog-operations.js';
import { CatalogConsoleSessionRevocations1764209200000 } from './migrations/1764209200000-catalog-console-session-revocations.js';
import { CatalogPlacementProvisioners1764209300000 } from './migrations/1764209300000-catalog-placement-provisioners.js';
import {
  CATALOG_MIGRATION_LOCK,
  grantStoreCatalogLogins,
  storeCatalogLogin,
  storeCatalogLoginName,
  storeCatalogNotReady,
  type StoreCatalogLogin,
} from './store-catalog-logins.js';
import type { StoreName } from './store-name.js';

/** Entities and migrations of the catalog itself; other libs (the saga log) add theirs. */
export const CATALOG_ENTITIES = [TenantEntity, PlacementEntity, ApiKeyEntity];
export const CATALOG_MIGRATIONS = [
  CatalogInit1764201600000,
  CatalogPlacementKinds1764206000000,
  CatalogApiKeyResource1764208500000,
  CatalogTenantRetirement1764208510000,
  CatalogKeyLabel1764208520000,
  CatalogAuditCheckpoints1764208800000,
  CatalogTenantQuotas1764208900000,
  CatalogAdminAudit1764209000000,
  CatalogOperations1764209100000,
  CatalogConsoleSessionRevocations1764209200000,
  CatalogPlacementProvisioners1764209300000,
];

export interface SystemDatabaseOptions {
  /**
   * `postgres://user[:pass]@host:port/database[?sslmode=verify-full&sslrootcert=/path/ca.pem]`:
   * TLS parameters as for placements' server URLs (`parseTlsParameters` in libs/data-router).
   */
  readonly url: string;
  readonly poolSize: number;
  readonly applicationName: string;
  readonly extraEntities?: ReadonlyArray<new () => unknown>;
  readonly extraMigrations?: ReadonlyArray<new () => unknown>;
  /**
   * The store this process is, and its key. When the URL's user is the store's own catalog login
   * (`ps_<store>_catalog`, see `storeCatalogLogin`), a password it leaves out derives from the
   * key, and the process never creates or migrates the catalog: it waits until the catalog is
   * current and its rights are granted (the gateway or any `polystore` command migrates it).
   */
  readonly store?: { readonly name: StoreName; readonly key: Buffer };
  /** How long a store's own login waits for the catalog before giving up; default 120,000 ms. */
  readonly waitMs?: number;
}

/** How often a store's own login checks the catalog again while it waits. */
const WAIT_POLL_MS = 500;
/** How often the wait is logged. */
const WAIT_LOG_MS = 10_000;

/**
 * Opens the system database. With the catalog's owner (or any login that may, as in development
 * with one login for every app): creates it if missing, applies pending migrations under a
 * PostgreSQL advisory lock (so replicas starting together migrate once), then grants the stores'
 * own catalog logins their rights (`grantStoreCatalogLogins`). With a store's own login: waits
 * until that is done (see {@link SystemDatabaseOptions.store}). Every connection (the creation
 * check included) uses the URL's TLS settings.
 */
export async function openSystemDatabase(options: SystemDatabaseOptions): Promise<DataSource> {
  const logger = new Logger('SystemDatabase');
  // Validates the TLS parameters (naming a bad one) before anything connects.
  parseServerUrl(options.url);
  const url = new URL(options.url);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const store = options.store;
  const ownLogin = store !== undefined && decodeURIComponent(url.username) === storeCatalogLoginName(store.name);
  if (ownLogin && !url.password) url.password = storeCatalogLogin(store.name, store.key).password;
  if (!ownLogin) {
    const server = new URL(options.url);
    server.pathname = '';
    if (await DatabaseAdmin.ensureDatabase(server.toString(), database))
      logger.log(`created system database ${database}`);
  }
  const migrations = [...CATALOG_MIGRATIONS, ...(options.extraMigrations ?? [])];
  const dataSource = systemDataSource(url, database, options.poolSize, options.applicationName, {
    entities: [...CATALOG_ENTITIES, ...(options.extraEntities ?? [])],
    migrations,
    migrationsTableName: 'catalog_migrations',
  });
  if (ownLogin) {
    const expected = migrations.map((migration) => migrationName(migration));
    await waitForCatalog(dataSource, store.name, expected, options.waitMs ?? 120_000, logger);
    return dataSource;
  }
  await dataSource.initialize();
  const { applied } = await migrateDatabase(dataSource, CATALOG_MIGRATION_LOCK);
  if (applied.length > 0) logger.log(`applied catalog migrations: ${applied.join(', ')}`);
  try {
    const granted = await grantStoreCatalogLogins(dataSource);
    if (applied.length > 0 && granted.length > 0) logger.log(`catalog rights checked for: ${granted.join(', ')}`);
  } catch (error) {
    // A login that may migrate but does not own the tables: the stores' logins wait for db-roles.
    if (sqlStateOf(error) !== '42501') throw error;
    logger.warn(
      "cannot grant the stores' catalog logins their rights (this login does not own the catalog's tables): run `polystore db-roles`",
    );
  }
  return dataSource;
}

/**
 * `polystore db-roles`: creates (or updates) the stores' own catalog logins on the server of
 * `adminUrl` (an administrative URL), lets them connect to the system database `database`, and
 * grants them their rights on the catalog's tables that exist (`grantStoreCatalogLogins`; the
 * catalog's next migration grants the rest).
 */
export async function ensureStoreCatalogLogins(
  adminUrl: string,
  database: string,
  logins: readonly StoreCatalogLogin[],
): Promise<void> {
  await ServerRoles.ensureDatabaseLogins(adminUrl, database, logins);
  const dataSource = systemDataSource(new URL(adminUrl), database, 1, 'polystore-db-roles');
  await dataSource.initialize();
  try {
    await grantStoreCatalogLogins(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** A DataSource on `database` of the PostgreSQL server of `url` (its login and TLS settings). */
function systemDataSource(
  url: URL,
  database: string,
  poolSize: number,
  applicationName: string,
  schema: Partial<Pick<DataSourceOptions, 'entities' | 'migrations' | 'migrationsTableName'>> = {},
): DataSource {
  return new DataSource({
    type: 'postgres',
    ssl: pgSslOptions(parseServerUrl(url.toString())),
    host: url.hostname,
    port: Number(url.port || 5432),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
    ...schema,
    installExtensions: false,
    poolSize,
    applicationName,
    extra: { max: poolSize, connectionTimeoutMillis: 5_000 },
  });
}

function migrationName(migration: new () => unknown): string {
  return (new migration() as { name?: string }).name ?? migration.name;
}

/** PostgreSQL errors a store's own login waits out: the database, a table or a right not there yet. */
const NOT_YET = new Set(['3D000', '42P01', '42501']);

/**
 * Initializes `dataSource` (a store's own catalog login) and returns once the catalog is current
 * and the login's rights are granted; throws after `waitMs`, saying what is missing. A refused
 * login (wrong password: another store key, or `db-roles` not run) fails at once.
 */
async function waitForCatalog(
  dataSource: DataSource,
  store: StoreName,
  expected: readonly string[],
  waitMs: number,
  logger: Logger,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  let nextLog = Date.now() + WAIT_LOG_MS;
  let reason: string;
  for (;;) {
    try {
      if (!dataSource.isInitialized) await dataSource.initialize();
      const notReady = await storeCatalogNotReady(dataSource, store, expected);
      if (notReady === null) return;
      reason = notReady;
    } catch (error) {
      const code = sqlStateOf(error);
      if (!code || !NOT_YET.has(code)) {
        if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
        throw new Error(
          `system database: ${storeCatalogLoginName(store)} cannot log in or read the catalog (${code ?? (error as Error).message}); run \`polystore db-roles\` (its password derives from the store key)`,
          { cause: error },
        );
      }
      reason = code === '3D000' ? 'the system database does not exist yet' : (error as Error).message;
    }
    if (Date.now() >= deadline) {
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
      throw new Error(
        `system database: not ready for ${storeCatalogLoginName(store)} after ${waitMs} ms: ${reason}. Start the gateway or run a \`polystore\` command (they migrate the catalog), and \`polystore db-roles\``,
      );
    }
    if (Date.now() >= nextLog) {
      logger.log(`waiting for the catalog (${reason})`);
      nextLog = Date.now() + WAIT_LOG_MS;
    }
    await sleep(WAIT_POLL_MS);
  }
}
