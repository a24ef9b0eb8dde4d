// Dropping what the bench's tenants left behind. Every tenant a run created is recorded in the
// benchmark's own catalog (polystore_bench_system for run.mjs, polystore_bench_<name>_system for
// the others, see `catalogDatabase` in each) until the admin API deletes it, and the run keeps
// the placements GET /admin/tenants listed: whatever of either is still there at cleanup (or, for
// the catalog, at the start of the next run after a crash) is dropped directly: schemas and roles
// in the stores' shared databases, tenant databases on PostgreSQL and MariaDB; then the catalog.
import mysql from 'mysql2/promise';
import { adminQuery, catalogPlacements, dropDatabases, dropSchemas } from './pg.mjs';

const MARIADB_TENANT_DATABASE = /^ps_reliable_[0-9a-f]{32}$/;

/** Runs `work` on a short-lived MariaDB connection (no database selected). */
async function withMariadb(serverUrl, work) {
  const url = new URL(serverUrl);
  const connection = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
  });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

/** Drops tenant databases on MariaDB (only names made from a tenant id); returns how many existed. */
async function dropMariadbDatabases(serverUrl, names) {
  if (names.length === 0) return 0;
  for (const name of names) if (!MARIADB_TENANT_DATABASE.test(name)) throw new Error(`refusing to drop ${name}`);
  return withMariadb(serverUrl, async (connection) => {
    const [rows] = await connection.query(
      'SELECT schema_name FROM information_schema.schemata WHERE schema_name IN (?)',
      [names],
    );
    for (const name of names) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    return rows.length;
  });
}

/** Drops tenant databases on PostgreSQL; returns how many existed. */
async function dropPostgresDatabases(serverUrl, names) {
  if (names.length === 0) return 0;
  const rows = await adminQuery(serverUrl, 'SELECT datname FROM pg_database WHERE datname = ANY($1)', [names]);
  await dropDatabases(serverUrl, names);
  return rows.length;
}

/**
 * Drops the given placements (`{ kind, server, database, schema? }`, as GET /admin/tenants or the
 * catalog list them) on the bench's servers, whether they still exist or not. Returns how many
 * still existed: `{ schemas, databases }`.
 */
export async function dropPlacements(settings, placements) {
  const isPostgres = (p) => /^postgres(ql)?:/.test(p.server);
  const isMysql = (p) => /^(mysql|mariadb):/.test(p.server);
  const schemasByDatabase = new Map();
  for (const p of placements.filter((p) => p.kind === 'schema' && p.schema && isPostgres(p))) {
    schemasByDatabase.set(p.database, [...(schemasByDatabase.get(p.database) ?? []), p.schema]);
  }
  let schemas = 0;
  for (const [database, names] of schemasByDatabase) {
    const exists = await adminQuery(settings.pgServerUrl, 'SELECT 1 AS ok FROM pg_database WHERE datname = $1', [
      database,
    ]);
    if (exists.length > 0) schemas += await dropSchemas(settings.pgServerUrl, database, names);
  }
  const own = placements.filter((p) => p.kind !== 'schema');
  const databases =
    (await dropPostgresDatabases(
      settings.pgServerUrl,
      own.filter(isPostgres).map((p) => p.database),
    )) +
    (await dropMariadbDatabases(
      settings.mariadbUrl,
      own.filter(isMysql).map((p) => p.database),
    ));
  return { schemas, databases };
}

/**
 * Drops every placement still listed in the bench catalog, then the catalog. Returns how many
 * of them still existed (`{ listed, schemas, databases }`), or null when there was no catalog.
 */
export async function dropBenchLeftovers(settings) {
  const placements = await catalogPlacements(settings.pgServerUrl, settings.catalogDatabase);
  if (placements === null) return null;
  const dropped = await dropPlacements(settings, placements);
  await dropDatabases(settings.pgServerUrl, [settings.catalogDatabase]);
  return { listed: placements.length, ...dropped };
}

/**
 * The end of a benchmark run that created tenants, once the admin API has deleted what it could
 * and the apps are stopped: drops what the run's catalog still lists, then the catalog, then
 * checks that the placements the run saw (`seen`, from GET /admin/tenants) are gone, dropping any
 * that are not. Returns what had to be dropped directly: `{ schemas, databases }` (0 and 0 when
 * the admin API deleted everything).
 */
export async function dropRunLeftovers(settings, seen = []) {
  const listed = await dropBenchLeftovers(settings);
  const again = await dropPlacements(settings, seen);
  return {
    schemas: (listed?.schemas ?? 0) + again.schemas,
    databases: (listed?.databases ?? 0) + again.databases,
  };
}

/** One line for the log about {@link dropRunLeftovers}' result. */
export function leftoversMessage({ schemas, databases }, seenCount) {
  if (schemas + databases > 0)
    return `dropped ${schemas} leftover schema(s) and ${databases} leftover database(s) directly, and the catalog`;
  return `checked: none of the run's ${seenCount} placement(s) is left; catalog dropped`;
}
