import type { DataSource } from 'typeorm';
import {
  DatabaseAdmin,
  MysqlRuntimeLogin,
  SAFE_PASSWORD,
  withAdminConnection,
  type RuntimeLogin,
} from './database-admin.js';
import { DataRouterException } from './data-router.exception.js';
import { LANDING_DATABASE } from './internal/shared-pool.js';
import { assertDatabaseName, parseServerUrl } from './placement.js';
import { mysqlErrnoOf } from './sql-errors.js';

/** A login to create or update: a validated name and, on servers that check passwords, its password. */
export interface ServerLogin {
  readonly username: string;
  readonly password?: string;
}

/** Databases a provisioning login may create and grant on MySQL/MariaDB: the placements' and the landing one. */
const MYSQL_PROVISIONED_PATTERNS = ['ps\\_%', 'polystore\\_landing'];

/** MySQL/MariaDB `ER_NONEXISTING_GRANT`: a REVOKE of a right the account does not hold. */
const NONEXISTING_GRANT = 1141;

function checked(login: ServerLogin): { name: string; password?: string } {
  assertDatabaseName(login.username);
  if (login.password !== undefined && !SAFE_PASSWORD.test(login.password))
    throw DataRouterException.invalidPlacement('password must be 16-128 characters of [A-Za-z0-9_-]');
  return { name: login.username, ...(login.password === undefined ? {} : { password: login.password }) };
}

/**
 * Creates `name` as a login role with exactly `attributes` (and `secret`, a ` PASSWORD '...'`
 * clause or nothing), or gives an existing one those attributes: idempotent, race-safe.
 */
async function ensurePostgresLogin(ds: DataSource, name: string, attributes: string, secret: string): Promise<void> {
  await ds.query(
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${name}') THEN
         CREATE ROLE "${name}" LOGIN ${attributes}${secret};
       ELSE
         ALTER ROLE "${name}" LOGIN ${attributes}${secret};
       END IF;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
     END $$;`,
  );
}

/**
 * The database logins Polystore's processes use instead of a superuser, created once per server by
 * an operator holding an administrative login (`polystore db-roles`). Every operation is
 * idempotent: running it again updates the rights and the password.
 *
 * - **Provisioning login** (the user of the server URLs in the placements): creates and drops
 *   tenant databases, schemas and roles, and nothing else.
 *   - PostgreSQL: `LOGIN CREATEDB CREATEROLE NOSUPERUSER`, plus `pg_signal_backend` (a dropped
 *     database's sessions are closed with `DROP DATABASE ... WITH (FORCE)`). It becomes a member of
 *     each tenant role it creates (see `SchemaAdmin`); the stores' queries run as their runtime
 *     logins (`ps_<store>_runtime`), bound to one tenant role at a time.
 *   - MySQL/MariaDB: every right on the placements' databases (`ps\_%`) and the landing database,
 *     with `GRANT OPTION`; no right on any other database (`mysql` included) and **no `CREATE
 *     USER`**, which would let it drop any account or set its password, the administrators'
 *     included. The stores' runtime logins there are made by `ensureMysqlRuntimeLogins` instead.
 * - **Runtime logins** on MySQL/MariaDB (`ps_<store>_runtime`): every right on its store's
 *   databases only; made by the operator's tool (`polystore db-roles`), their passwords derived
 *   from the store keys.
 * - **Catalog login** (PostgreSQL, the user of `SYSTEM_DB_URL`): owns the system database and
 *   its tables, and nothing else. The gateway and the CLI use it.
 * - **Store catalog logins** (`ps_<store>_catalog`, `ensureDatabaseLogins`): the stores' own
 *   logins to the system database, granted by its owner only what each store reads and writes
 *   there.
 */
export const ServerRoles = {
  /**
   * Creates (or updates) the provisioning login on the server of `adminUrl`. On PostgreSQL, it
   * also gets `CREATE` on those of `sharedDatabases` that exist already (the stores' shared
   * databases, created by another login before: it creates the tenants' schemas in them).
   */
  async ensureProvisioner(
    adminUrl: string,
    login: ServerLogin,
    sharedDatabases: readonly string[] = [],
  ): Promise<void> {
    const address = parseServerUrl(adminUrl);
    const { name, password } = checked(login);
    sharedDatabases.forEach((database) => assertDatabaseName(database));
    if (address.dialect === 'mongodb')
      throw DataRouterException.invalidPlacement('provisioning logins are for PostgreSQL and MySQL/MariaDB');
    if (address.dialect === 'postgres') {
      const secret = password === undefined ? '' : ` PASSWORD '${password}'`;
      await withAdminConnection(address, async (ds) => {
        await ensurePostgresLogin(ds, name, 'NOSUPERUSER CREATEDB CREATEROLE NOREPLICATION NOBYPASSRLS', secret);
        await ds.query(`GRANT pg_signal_backend TO "${name}"`);
        const existing: Array<{ datname: string }> = await ds.query(
          'SELECT datname FROM pg_database WHERE datname = ANY($1)',
          [sharedDatabases],
        );
        for (const { datname } of existing)
          await ds.query(`GRANT CONNECT, CREATE, TEMPORARY ON DATABASE "${datname}" TO "${name}"`);
      });
      return;
    }
    const user = `'${name}'@'%'`;
    await withAdminConnection(address, async (ds) => {
      const identified = password === undefined ? '' : ` IDENTIFIED BY '${password}'`;
      await ds.query(`CREATE USER IF NOT EXISTS ${user}${identified}`);
      if (password !== undefined) await ds.query(`ALTER USER ${user}${identified}`);
      for (const pattern of MYSQL_PROVISIONED_PATTERNS)
        await ds.query(`GRANT ALL PRIVILEGES ON \`${pattern}\`.* TO ${user} WITH GRANT OPTION`);
      // Held since an earlier version, which let the stores make their runtime logins themselves.
      await ds.query(`REVOKE CREATE USER ON *.* FROM ${user}`).catch((error: unknown) => {
        if (mysqlErrnoOf(error) !== NONEXISTING_GRANT) throw error;
      });
    });
  },

  /**
   * MySQL/MariaDB: creates (or updates: password, rights) each store's runtime login and the
   * landing database its shared pool rests in, on the server of `adminUrl` (see
   * `MysqlRuntimeLogin`). The stores cannot: their provisioning login may not manage accounts.
   */
  async ensureMysqlRuntimeLogins(adminUrl: string, logins: readonly RuntimeLogin[]): Promise<void> {
    const address = parseServerUrl(adminUrl);
    if (address.dialect !== 'mysql' && address.dialect !== 'mariadb')
      throw DataRouterException.invalidPlacement('MySQL runtime logins are for MySQL/MariaDB servers');
    await DatabaseAdmin.ensureDatabase(adminUrl, LANDING_DATABASE);
    for (const login of logins) await MysqlRuntimeLogin.ensure(adminUrl, login, LANDING_DATABASE);
  },

  /**
   * PostgreSQL: creates (or updates) `logins` on the server of `adminUrl` as plain logins
   * (`NOINHERIT`, no attribute) that may connect to `database`, and nothing more until that
   * database's owner grants them (the stores' own catalog logins: see `grantStoreCatalogLogins`
   * in libs/catalog).
   */
  async ensureDatabaseLogins(adminUrl: string, database: string, logins: readonly ServerLogin[]): Promise<void> {
    const address = parseServerUrl(adminUrl);
    if (address.dialect !== 'postgres')
      throw DataRouterException.invalidPlacement('database logins are PostgreSQL roles');
    assertDatabaseName(database);
    const checkedLogins = logins.map(checked);
    await withAdminConnection(address, async (ds) => {
      for (const { name, password } of checkedLogins) {
        const secret = password === undefined ? '' : ` PASSWORD '${password}'`;
        await ensurePostgresLogin(
          ds,
          name,
          'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT',
          secret,
        );
        await ds.query(`GRANT CONNECT ON DATABASE "${database}" TO "${name}"`);
      }
    });
  },

  /**
   * Creates (or updates) the catalog login, creates the system database `database` unless it
   * exists, and gives the login the database and everything in its `public` schema (tables a
   * superuser created earlier included), so the catalog's migrations run as that login.
   */
  async ensureCatalogOwner(adminUrl: string, database: string, login: ServerLogin): Promise<void> {
    const address = parseServerUrl(adminUrl);
    if (address.dialect !== 'postgres') throw DataRouterException.invalidPlacement('the system database is PostgreSQL');
    assertDatabaseName(database);
    const { name, password } = checked(login);
    const secret = password === undefined ? '' : ` PASSWORD '${password}'`;
    await withAdminConnection(address, async (ds) => {
      await ensurePostgresLogin(ds, name, 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', secret);
      const rows: unknown[] = await ds.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (rows.length === 0) await ds.query(`CREATE DATABASE "${database}" OWNER "${name}"`);
      else await ds.query(`ALTER DATABASE "${database}" OWNER TO "${name}"`);
    });
    // Tables created before (by a superuser) change hands; sequences owned by a column follow their table.
    await withAdminConnection(
      address,
      (ds) =>
        ds.query(
          `DO $$ DECLARE r record; BEGIN
           FOR r IN SELECT c.oid::regclass AS object, c.relkind AS kind
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
                       AND pg_get_userbyid(c.relowner) <> '${name}'
                       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
           LOOP
             EXECUTE format('ALTER %s %s OWNER TO %I',
               CASE r.kind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
               r.object, '${name}');
           END LOOP;
         END $$`,
        ),
      database,
    );
  },
};
