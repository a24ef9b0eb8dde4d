import { isIP } from 'node:net';
import { HostListUrl } from '#polystore/platform';
import { DataRouterException } from './data-router.exception.js';
import { parseTlsParameters, type ServerTls } from './server-tls.js';

/**
 * How a tenant's data sits on a server, for one store:
 * - `schema` (PostgreSQL): a schema (and a role of the same name) of its own inside one shared
 *   database per store and server, served by one pool per server whatever the tenant count;
 * - `database`: a database of its own on a shared server. MySQL/MariaDB: one pool per server
 *   (each checkout is bound to the database). PostgreSQL and MongoDB connections are bound to one
 *   database, so there it is served by a pool per database (the layout before schemas existed);
 * - `dedicated`: a server of the tenant's own, with its own pool.
 */
export type PlacementKind = 'schema' | 'database' | 'dedicated';

/** Every placement kind, in the order operators see them. */
export const PLACEMENT_KINDS: readonly PlacementKind[] = ['schema', 'database', 'dedicated'];

/**
 * Where one tenant's data for one store lives, as the catalog says. The router never builds one
 * from request data: placements come from the catalog only.
 */
export interface DataSourcePlacement {
  /** Tenant slug, for stats and per-tenant eviction. */
  readonly tenant: string;
  /** Server URL with credentials (`postgres://user:pass@host:port`), used only to connect. */
  readonly serverUrl: string;
  /**
   * Database name on that server; must match {@link DATABASE_NAME_PATTERN}. For a `schema`
   * placement, the store's shared database on that server.
   */
  readonly database: string;
  readonly kind: PlacementKind;
  /** `schema` placements only: the tenant's schema, which is also the name of its role. */
  readonly schema?: string;
  /** Bumped by the catalog whenever the placement changes (a moved tenant gets a new DataSource). */
  readonly version: number;
}

/** The only database names the router accepts. */
export const DATABASE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/** Database engines the router can connect to, derived from the server URL's scheme. */
export type Dialect = 'postgres' | 'mysql' | 'mariadb' | 'mongodb';

const DIALECTS: Record<string, Dialect> = {
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
  'mysql:': 'mysql',
  'mariadb:': 'mariadb',
  'mongodb:': 'mongodb',
};

/** One host of a multi-host server URL. */
export interface ServerNode {
  readonly host: string;
  readonly port: number;
}

/** A parsed server URL: connection fields kept apart, never re-joined into a string. */
export interface ServerAddress {
  readonly dialect: Dialect;
  /** The (first) host; with {@link nodes}, connections go through a `ClusterMembership` instead. */
  readonly host: string;
  readonly port: number;
  /**
   * MySQL/MariaDB only: every node of a multi-host URL (`mysql://user@h1:p1,h2:p2,h3:p3`), a
   * Galera cluster or MySQL Group Replication; absent for a single host.
   */
  readonly nodes?: readonly ServerNode[];
  readonly username?: string;
  readonly password?: string;
  /** `dialect://host:port`: identifies the server in budgets, stats and logs (no credentials, no TLS settings). */
  readonly id: string;
  /** TLS to the server (from the URL's `sslmode`/`sslrootcert`); absent: plaintext. */
  readonly tls?: ServerTls;
}

const DEFAULT_PORTS: Record<Dialect, number> = { postgres: 5432, mysql: 3306, mariadb: 3306, mongodb: 27017 };

/**
 * Parses and validates a server URL; throws `INVALID_PLACEMENT` (without echoing credentials).
 * Its query holds the TLS settings only (see {@link parseTlsParameters}); any other parameter is
 * refused, naming it. No file is read here (this runs per request).
 */
export function parseServerUrl(serverUrl: string): ServerAddress {
  let url: URL;
  let hosts: readonly string[] | undefined;
  try {
    ({ url, hosts } = HostListUrl.parse(serverUrl));
  } catch {
    throw DataRouterException.invalidPlacement('server URL is not a URL');
  }
  const dialect = DIALECTS[url.protocol];
  if (!dialect) throw DataRouterException.invalidPlacement(`unsupported server scheme ${url.protocol}`);
  if (!url.hostname) throw DataRouterException.invalidPlacement('server URL has no host');
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[dialect];
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const nodes = hosts ? parseNodes(url.protocol, hosts, dialect) : undefined;
  if (nodes && dialect !== 'mysql' && dialect !== 'mariadb')
    throw DataRouterException.invalidPlacement('several hosts in a server URL need MySQL or MariaDB (a cluster)');
  const tls = parseTlsParameters(url.searchParams, dialect);
  // mysql2 checks the certificate of a server reached by IP address against the name `localhost`.
  if (tls?.mode === 'verify-full' && (dialect === 'mysql' || dialect === 'mariadb') && isIP(host) !== 0)
    throw DataRouterException.invalidPlacement(
      'server URL parameter sslmode: verify-full on MySQL/MariaDB needs the host as a name (the driver cannot check an IP address); use verify-ca',
    );
  return {
    dialect,
    host,
    port,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    id: nodes
      ? `${dialect}://${nodes.map((node) => hostPort(node.host, node.port)).join(',')}`
      : `${dialect}://${url.hostname}:${port}`,
    ...(nodes ? { nodes } : {}),
    ...(tls ? { tls } : {}),
  };
}

function parseNodes(protocol: string, hosts: readonly string[], dialect: Dialect): ServerNode[] {
  const nodes = hosts.map((entry, index) => {
    let url: URL;
    try {
      url = new URL(`${protocol}//${entry}`);
    } catch {
      throw DataRouterException.invalidPlacement(`server URL host ${index + 1} is not host:port`);
    }
    if (!url.hostname || url.username || url.pathname.replace('/', '') !== '' || url.search)
      throw DataRouterException.invalidPlacement(`server URL host ${index + 1} is not host:port`);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : DEFAULT_PORTS[dialect] };
  });
  const keys = new Set(nodes.map((node) => hostPort(node.host, node.port)));
  if (keys.size !== nodes.length) throw DataRouterException.invalidPlacement('server URL names a host twice');
  return nodes;
}

function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** Throws `INVALID_PLACEMENT` unless `database` matches {@link DATABASE_NAME_PATTERN}. */
export function assertDatabaseName(database: string): void {
  if (!DATABASE_NAME_PATTERN.test(database)) throw DataRouterException.invalidPlacement('database name');
}

/**
 * Throws `INVALID_PLACEMENT` unless the placement is coherent: a valid database name, and for a
 * `schema` placement a valid schema name on a PostgreSQL server.
 */
export function assertPlacement(placement: DataSourcePlacement, dialect: Dialect): void {
  assertDatabaseName(placement.database);
  if (placement.kind !== 'schema') return;
  if (dialect !== 'postgres') throw DataRouterException.invalidPlacement('schema placements need PostgreSQL');
  if (!placement.schema || !DATABASE_NAME_PATTERN.test(placement.schema))
    throw DataRouterException.invalidPlacement('schema name');
}

/** Quotes a validated database name as an SQL identifier for `dialect`. */
export function quoteDatabaseName(dialect: Dialect, database: string): string {
  assertDatabaseName(database);
  return dialect === 'postgres' ? `"${database}"` : `\`${database}\``;
}
