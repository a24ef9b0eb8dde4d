import pg from 'pg';
import { dbQuery, dropDatabaseByHand } from './db.js';
import { mariaQuery } from './mariadb.js';
import { TestServices } from './services.js';

/** Where a tenant's data sits in one store, as the admin API lists it. */
export interface TenantPlacement {
  readonly store: string;
  readonly kind: 'schema' | 'database' | 'dedicated';
  readonly server: string;
  readonly database: string;
  readonly schema?: string;
  readonly version: number;
}

/** `dialect://host:port` of the admin listing back to a URL with the test servers' credentials. */
export function serverUrlOf(placement: TenantPlacement): string {
  // A cluster (several hosts): its first node.
  const server = new URL(placement.server.replace(/,[^/?#]*/, ''));
  const known = [TestServices.postgresUrl, TestServices.mariadbUrl].map((u) => new URL(u));
  const same = known.find((u) => u.hostname === server.hostname && (u.port || '') === (server.port || ''));
  const user = same?.username || 'root';
  return `${server.protocol}//${user}@${server.host}`;
}

/**
 * Runs SQL in a tenant's own data, as its placement says: inside its schema (search path set)
 * in the shared PostgreSQL database, or in its own database on PostgreSQL or MariaDB. Tests use
 * it to look at what the stores wrote, or to break it on purpose.
 */
export async function tenantSql<R = Record<string, unknown>>(
  placement: TenantPlacement,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const serverUrl = serverUrlOf(placement);
  if (!serverUrl.startsWith('postgres')) return mariaQuery<R>(sql, params, placement.database, serverUrl);
  const url = new URL(serverUrl);
  const client = new pg.Client({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'root'),
    database: placement.database,
  });
  await client.connect();
  try {
    if (placement.schema) await client.query(`SET search_path TO "${placement.schema}"`);
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Names spliced into SQL by the helpers below: what the catalog generates, nothing else. */
const SAFE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

function safeName(name: string | undefined): string {
  if (!name || !SAFE_NAME.test(name)) throw new Error(`unexpected database or schema name ${String(name)}`);
  return name;
}

/**
 * The names of the tenant's own tables, sorted: the base tables of its schema (a `schema`
 * placement), of the `public` schema of its database (PostgreSQL), or of its database (MariaDB).
 */
export async function tenantTables(placement: TenantPlacement): Promise<string[]> {
  const postgres = serverUrlOf(placement).startsWith('postgres');
  const rows = postgres
    ? await dbQuery<{ t: string }>(
        serverUrlOf(placement),
        placement.database,
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
        [placement.schema ?? 'public'],
      )
    : await dbQuery<{ t: string }>(
        serverUrlOf(placement),
        undefined,
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
        [placement.database],
      );
  return rows.map((r) => r.t).sort();
}

/**
 * Destroys a tenant's data by hand, as an operator's mistake would, and nothing else: its schema
 * (`DROP SCHEMA ... CASCADE` in the shared database, which keeps serving the other tenants) for
 * a `schema` placement, its whole database otherwise.
 */
export async function dropTenantDataByHand(placement: TenantPlacement): Promise<void> {
  const serverUrl = serverUrlOf(placement);
  const database = safeName(placement.database);
  if (placement.kind === 'schema') {
    await dbQuery(serverUrl, database, `DROP SCHEMA "${safeName(placement.schema)}" CASCADE`);
  } else {
    await dropDatabaseByHand(serverUrl, database);
  }
}

/**
 * Every row of every table of the tenant's own data, as text (on PostgreSQL a row's text form,
 * bytea as hex; on MariaDB its JSON), one line per row: what a dump of its schema (`pg_dump -n`)
 * or of its database would hold, to look for what must never be stored in clear.
 */
export async function dumpTenantData(placement: TenantPlacement): Promise<string> {
  const postgres = serverUrlOf(placement).startsWith('postgres');
  const lines: string[] = [];
  for (const table of await tenantTables(placement)) {
    safeName(table);
    if (postgres) {
      const rows = await tenantSql<{ row: string }>(placement, `SELECT t::text AS row FROM "${table}" t`);
      lines.push(...rows.map((r) => `${table}: ${r.row}`));
    } else {
      const rows = await tenantSql(placement, `SELECT * FROM \`${table}\``);
      lines.push(...rows.map((r) => `${table}: ${JSON.stringify(r)}`));
    }
  }
  return lines.join('\n');
}
