import type { DataSourceOptions } from 'typeorm';
import { ClusterMembership } from '../cluster.js';
import { mysqlSslOptions, pgSslOptions } from '../driver-tls.js';
import type { Dialect, ServerAddress } from '../placement.js';

/** What a store contributes to each of its tenant DataSources: its schema and migrations. */
export interface StoreSchema {
  readonly entities: NonNullable<DataSourceOptions['entities']>;
  readonly migrations?: NonNullable<DataSourceOptions['migrations']>;
  /** Table that records applied migrations (default `migrations`). */
  readonly migrationsTableName?: string;
}

/**
 * A store's schema for each dialect: stores whose entities or migrations differ per engine
 * (e.g. MongoDB needs `@ObjectIdColumn()` entities and index-creating migrations) give a function.
 */
export type StoreSchemaByDialect = (dialect: Dialect) => StoreSchema;

/** The schema a DataSource on a `dialect` server gets. */
export function resolveStoreSchema(schema: StoreSchema | StoreSchemaByDialect, dialect: Dialect): StoreSchema {
  return typeof schema === 'function' ? schema(dialect) : schema;
}

export interface ConnectionSettings {
  readonly poolSize: number;
  readonly applicationName: string;
  readonly connectTimeoutMs: number;
  /** For `mysql://` servers: the TypeORM driver type matching the server (see {@link detectMysqlFlavor}). */
  readonly mysqlFlavor?: 'mysql' | 'mariadb';
}

/**
 * TypeORM options for one database on one server. Credentials and the database name go into
 * separate driver fields, never into a connection string. TLS follows the server URL's
 * `sslmode`/`sslrootcert` (the CA file is read here, when the DataSource is set up).
 */
export function connectionOptions(
  address: ServerAddress,
  database: string | undefined,
  schema: StoreSchema,
  settings: ConnectionSettings,
): DataSourceOptions {
  const common = {
    host: address.host,
    port: address.port,
    username: address.username,
    password: address.password,
    database,
    entities: schema.entities,
    migrations: schema.migrations ?? [],
    migrationsTableName: schema.migrationsTableName,
    synchronize: false,
    migrationsRun: false,
    logging: false,
  } as const;
  switch (address.dialect) {
    case 'postgres':
      return {
        ...common,
        type: 'postgres',
        ssl: pgSslOptions(address),
        // Extensions are created by migrations, not by every DataSource on every start.
        installExtensions: false,
        poolSize: settings.poolSize,
        applicationName: settings.applicationName,
        connectTimeoutMS: settings.connectTimeoutMs,
        extra: {
          max: settings.poolSize,
          // The pool closes connections idle for this long; the router's budget counts the maximum anyway.
          idleTimeoutMillis: 30_000,
          connectionTimeoutMillis: settings.connectTimeoutMs,
        },
      };
    case 'mysql':
    case 'mariadb':
      return {
        ...common,
        type: address.dialect === 'mysql' ? (settings.mysqlFlavor ?? 'mysql') : 'mariadb',
        ...(address.tls ? { ssl: mysqlSslOptions(address) } : {}),
        poolSize: settings.poolSize,
        connectTimeout: settings.connectTimeoutMs,
        charset: 'utf8mb4',
        timezone: 'Z',
        supportBigNumbers: true,
        bigNumberStrings: false,
        extra: {
          connectionLimit: settings.poolSize,
          maxIdle: settings.poolSize,
          idleTimeout: 30_000,
          // Several hosts (a cluster): each new connection goes to the node that passed its check.
          ...(address.nodes ? { stream: ClusterMembership.of(address).stream } : {}),
        },
      };
    case 'mongodb':
      return {
        type: 'mongodb',
        host: address.host,
        port: address.port,
        username: address.username,
        password: address.password,
        database,
        // Server users (root included) live in `admin`, not in the tenant database TypeORM puts in the URL.
        ...(address.username ? { authSource: 'admin' } : {}),
        entities: schema.entities,
        migrations: schema.migrations ?? [],
        migrationsTableName: schema.migrationsTableName,
        synchronize: false,
        migrationsRun: false,
        logging: false,
        extra: {
          maxPoolSize: settings.poolSize,
          serverSelectionTimeoutMS: settings.connectTimeoutMs,
          appName: settings.applicationName,
        },
      };
  }
}

/**
 * Whether a `mysql://` server is MySQL or MariaDB (TypeORM has a driver type for each; on
 * MariaDB, `mariadb` was about twice as fast for inserts here). `mariadb://` URLs skip the probe.
 */
export async function detectMysqlFlavor(
  address: ServerAddress,
  connectTimeoutMs: number,
): Promise<'mysql' | 'mariadb'> {
  const rows = await queryMysqlOnce<{ version?: string }>(address, connectTimeoutMs, 'SELECT VERSION() AS version');
  return (rows[0]?.version ?? '').toLowerCase().includes('mariadb') ? 'mariadb' : 'mysql';
}

/** One statement on a short-lived MySQL/MariaDB connection (no database selected). */
export async function queryMysqlOnce<R>(address: ServerAddress, connectTimeoutMs: number, sql: string): Promise<R[]> {
  const mysql = await import('mysql2/promise');
  const cluster = await checkedCluster(address);
  const connection = await mysql.createConnection({
    host: address.host,
    port: address.port,
    ...(cluster ? { stream: cluster.stream } : {}),
    user: address.username,
    password: address.password,
    connectTimeout: connectTimeoutMs,
    ...(address.tls ? { ssl: mysqlSslOptions(address) } : {}),
  });
  try {
    const [rows] = await connection.query(sql);
    return rows as R[];
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/**
 * For a multi-host address: its cluster membership, after a check of its nodes (unless one ran
 * lately), so that the next connection goes to a healthy node. Single hosts: undefined.
 */
export async function checkedCluster(address: ServerAddress): Promise<ClusterMembership | undefined> {
  if (!address.nodes) return undefined;
  const cluster = ClusterMembership.of(address);
  await cluster.ensureChecked();
  return cluster;
}

/** The database that always exists on a server, used for administrative connections. */
export function maintenanceDatabase(dialect: Dialect): string | undefined {
  return dialect === 'postgres' ? 'postgres' : undefined;
}
