// Before the suite: removes what a crashed earlier run may have left behind: test tenant
// databases (`ps_<store>_e2e_*`, `ps_rt_*`), the data of the test tenants (`e2e-*`) that the test
// catalogs still list (their names come from tenant ids, so only the catalog knows them: a schema
// and its role in a shared database, or a database of their own), and those tenants. Only names
// the tests themselves generate, or the test catalogs list for test tenants, are touched, and
// only on the test servers; tests never use the real catalog.
import { existsSync } from 'node:fs';
import pg from 'pg';

const url = new URL(process.env.SECURE_SERVER_URL ?? 'postgres://root@127.0.0.1:5432');
const mariadbUrl = new URL(process.env.RELIABLE_SERVER_URL ?? 'mysql://root@127.0.0.1:3306');
/** What the catalog accepts as a database, schema or role name: the only names spliced into SQL. */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** A connected client of the test PostgreSQL server. */
async function connect(database = 'postgres', applicationName = undefined) {
  const client = new pg.Client({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
    application_name: applicationName,
  });
  await client.connect();
  return client;
}

async function query(sql, database = 'postgres', params = []) {
  const client = await connect(database);
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function mariadbConnection() {
  const mysql = await import('mysql2/promise');
  const mariadb = mariadbUrl;
  return mysql.createConnection({
    host: mariadb.hostname,
    port: Number(mariadb.port || 3306),
    user: decodeURIComponent(mariadb.username || 'root'),
    password: mariadb.password ? decodeURIComponent(mariadb.password) : undefined,
  });
}

async function dropMariaDbLeftovers() {
  const connection = await mariadbConnection();
  try {
    const [rows] = await connection.query(
      `SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name REGEXP '^ps_[a-z]+_e2e_[a-z0-9_]+$' OR schema_name REGEXP '^ps_rt_[a-z0-9_]+$'`,
    );
    for (const { name } of rows) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await connection.end();
  }
}

/** `host:port` of a server URL, with the dialect's default port. */
function hostPort(serverUrl, defaultPort) {
  return `${serverUrl.hostname}:${serverUrl.port || defaultPort}`;
}

/**
 * Drops the data of the test tenants (`e2e-*`) a test catalog lists: a schema placement's schema
 * (in its database) and its role, a database placement's database. Placements on any server but
 * the test servers are left alone. Errors are ignored: this is best-effort cleanup.
 */
async function dropTestTenantPlacements(catalogDatabase) {
  const placements = await query(
    `SELECT p.server_url, p.database_name, p.kind, p.schema_name
       FROM placements p JOIN tenants t ON t.id = p.tenant_id
      WHERE t.slug LIKE 'e2e-%'`,
    catalogDatabase,
  ).catch(() => []);
  const postgres = hostPort(url, 5432);
  const mariadb = hostPort(mariadbUrl, 3306);
  for (const placement of placements) {
    let server;
    try {
      server = new URL(placement.server_url);
    } catch {
      continue;
    }
    const database = placement.database_name;
    if (!NAME.test(database)) continue;
    if (/^postgres(ql)?:$/.test(server.protocol) && hostPort(server, 5432) === postgres) {
      if (placement.kind === 'schema') {
        const schema = placement.schema_name;
        if (!NAME.test(schema ?? '')) continue;
        await query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`, database).catch(() => undefined);
        await query(`DROP ROLE IF EXISTS "${schema}"`).catch(() => undefined);
      } else {
        await query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
      }
    } else if (/^(mysql|mariadb):$/.test(server.protocol) && hostPort(server, 3306) === mariadb) {
      const connection = await mariadbConnection().catch(() => undefined);
      await connection?.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
      await connection?.end().catch(() => undefined);
    }
  }
}

/**
 * One test run at a time on these servers: the clean-up below drops what another run is using
 * (its databases, its tenants), and two runs share ports and subjects. The lock is a PostgreSQL
 * advisory lock held by a connection of this process until it exits (global-teardown.mjs ends
 * it), so a second `jest`, even of unit tests only, from any checkout, stops here with a clear
 * message instead of breaking the first.
 */
async function holdTestRunLock() {
  const client = await connect('postgres', `polystore-test-run ${process.pid}`);
  const [{ locked }] = (await client.query(`SELECT pg_try_advisory_lock(hashtext('polystore-test-run')) AS locked`))
    .rows;
  if (!locked) {
    const holders = await client.query(
      `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE l.locktype = 'advisory' AND l.objid = hashtext('polystore-test-run')::oid AND l.granted`,
    );
    await client.end();
    throw new Error(
      `another test run is using the test servers (${holders.rows.map((r) => r.name).join(', ') || 'unknown'}): ` +
        'wait for it (flock /tmp/polystore-test.lock ...), its clean-up would drop what this run uses',
    );
  }
  client.on('error', () => undefined); // a server restart in a test ends it; the lock goes with it
  globalThis.__polystoreTestRunLock = client;
}

export default async function globalSetup() {
  await holdTestRunLock();
  await dropMariaDbLeftovers();
  if (!existsSync(new URL('../../dist/apps/gateway/src/main.js', import.meta.url))) {
    throw new Error('dist/ is missing: run the tests with `npm test` (it builds first)');
  }
  // The test tenants' data first, while the catalogs that list them are still there: the shared
  // test catalog, and the system databases of suites that did not get to drop theirs.
  const catalogs = await query(
    `SELECT datname FROM pg_database WHERE datname = 'polystore_test_system' OR datname ~ '^ps_sys_e2e_[a-z0-9_]+$'`,
  );
  for (const { datname } of catalogs) await dropTestTenantPlacements(datname);
  const leftovers = await query(
    `SELECT datname FROM pg_database WHERE datname ~ '^ps_[a-z]+_e2e_[a-z0-9_]+$' OR datname ~ '^ps_rt_[a-z0-9_]+$'`,
  );
  for (const { datname } of leftovers) await query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  // Logins of PostgreSQL database placements (`<database>_login`) whose database is gone.
  const orphanLogins = await query(
    `SELECT rolname FROM pg_roles r WHERE rolname ~ '^ps_[a-z]+_[0-9a-f]{32}_login$'
        AND NOT EXISTS (SELECT 1 FROM pg_database d WHERE d.datdba = r.oid)`,
  );
  for (const { rolname } of orphanLogins) await query(`DROP ROLE IF EXISTS "${rolname}"`).catch(() => undefined);
  if (catalogs.some((c) => c.datname === 'polystore_test_system')) {
    await query(`DELETE FROM tenants WHERE slug LIKE 'e2e-%'`, 'polystore_test_system').catch(() => undefined);
  }
}
