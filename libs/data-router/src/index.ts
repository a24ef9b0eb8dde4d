export { DataRouterErrorCode, DataRouterException } from './data-router.exception.js';
export {
  DATABASE_NAME_PATTERN,
  assertDatabaseName,
  parseServerUrl,
  quoteDatabaseName,
  type DataSourcePlacement,
  type Dialect,
  type ServerAddress,
} from './placement.js';
export {
  connectionOptions,
  maintenanceDatabase,
  resolveStoreSchema,
  type ConnectionSettings,
  type StoreSchema,
  type StoreSchemaByDialect,
} from './internal/connection-options.js';
export {
  DataSourceRouter,
  type DataSourceRouterOptions,
  type DataSourceStats,
  type IsolationLevel,
  type RouterStats,
  type ServerStats,
} from './data-source-router.js';
export { DatabaseAdmin } from './database-admin.js';
export { registerDataRouterMetrics } from './data-router.metrics.js';
export { MYSQL_MIGRATION_LOCK, migrateDatabase, pendingMigrations, type MigrationReport } from './migrations.util.js';
export { classifySqlError, isTransientSqlError, type SqlFailure } from './sql-errors.js';
export { transientRetryPolicy, type TransientRetryOptions } from './transient-retry.js';
export { TIMESTAMP_PRECISION, portableTypes, sqlDialectOf, uuidLength, type SqlDialect } from './portable-schema.js';
