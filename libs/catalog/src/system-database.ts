import { Logger } from '@nestjs/common';
import { DatabaseAdmin, migrateDatabase, parseServerUrl, pgSslOptions } from '#polystore/data-router';
import { DataSource } from 'typeorm';
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
}

/** Key of the advisory lock that serializes catalog migrations across processes. */
const MIGRATION_LOCK = 7_164_201_600;

/**
 * Opens the system database: creates it if missing, applies pending migrations under a
 * PostgreSQL advisory lock (so replicas starting together migrate once), returns the DataSource.
 * Every connection (the creation check included) uses the URL's TLS settings.
 */
export async function openSystemDatabase(options: SystemDatabaseOptions): Promise<DataSource> {
  const logger = new Logger('SystemDatabase');
  // Validates the TLS parameters (naming a bad one) before anything connects.
  const address = parseServerUrl(options.url);
  const url = new URL(options.url);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const server = new URL(options.url);
  server.pathname = '';
  if (await DatabaseAdmin.ensureDatabase(server.toString(), database))
    logger.log(`created system database ${database}`);

  const dataSource = new DataSource({
    type: 'postgres',
    ssl: pgSslOptions(address),
    host: url.hostname,
    port: Number(url.port || 5432),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
    entities: [...CATALOG_ENTITIES, ...(options.extraEntities ?? [])],
    migrations: [...CATALOG_MIGRATIONS, ...(options.extraMigrations ?? [])],
    migrationsTableName: 'catalog_migrations',
    installExtensions: false,
    poolSize: options.poolSize,
    applicationName: options.applicationName,
    extra: { max: options.poolSize, connectionTimeoutMillis: 5_000 },
  });
  await dataSource.initialize();
  const { applied } = await migrateDatabase(dataSource, MIGRATION_LOCK);
  if (applied.length > 0) logger.log(`applied catalog migrations: ${applied.join(', ')}`);
  return dataSource;
}
