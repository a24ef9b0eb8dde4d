export { DataRouterErrorCode, DataRouterException } from './data-router.exception.js';
export {
  DATABASE_NAME_PATTERN,
  PLACEMENT_KINDS,
  assertDatabaseName,
  assertPlacement,
  parseServerUrl,
  quoteDatabaseName,
  type DataSourcePlacement,
  type Dialect,
  type PlacementKind,
  type ServerAddress,
  type ServerNode,
} from './placement.js';
export {
  ClusterMembership,
  type ClusterNodeState,
  type ClusterOptions,
  type ClusterState,
  type NodeCondition,
} from './cluster.js';
export { parseTlsParameters, tlsQuery, type ServerTls, type TlsMode } from './server-tls.js';
export { mysqlSslOptions, pgSslOptions, type MysqlSslOptions, type PgSslOptions } from './driver-tls.js';
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
  type RouterObserver,
  type PlacementCircuit,
  type RouterStats,
  type ServerStats,
  type SharedPoolStats,
  type SharedSchema,
} from './data-source-router.js';
export { serverPools, type ServerPoolSummary } from './server-pools.js';
export { DatabaseAdmin, MysqlRuntimeLogin, SAFE_PASSWORD, SchemaAdmin, type RuntimeLogin } from './database-admin.js';
export { isTenantLogin, ServerRoles, tenantLoginName, type ServerLogin } from './server-roles.js';
export { DialectSeam, dialectFamilyOf, type DialectFamily } from './dialect-seam.js';
export { LANDING_DATABASE } from './internal/shared-pool.js';
export type { ServerShare } from './internal/server-budget.js';
export { registerDataRouterMetrics, type DataRouterMetricsOptions } from './data-router.metrics.js';
export { MYSQL_MIGRATION_LOCK, migrateDatabase, pendingMigrations, type MigrationReport } from './migrations.util.js';
export { classifySqlError, isTransientSqlError, sqlStateOf, type SqlFailure } from './sql-errors.js';
export { returnedRows } from './returned-rows.js';
export { transientRetryPolicy, type TransientRetryOptions } from './transient-retry.js';
export { TIMESTAMP_PRECISION, portableTypes, sqlDialectOf, uuidLength, type SqlDialect } from './portable-schema.js';
