import type { DataSource } from 'typeorm';
import {
  DatabaseAdmin,
  ensureDatabaseOn,
  ensureRuntimeLoginOn,
  MysqlRuntimeLogin,
  PROVISIONING_SCHEMA,
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

/** Objects of the connected database's own schemas, for the queries below. */
const USER_SCHEMA = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'";
/** Not made with another object (a column's sequence, a table's row type, an extension's), which follow it. */
const STANDALONE = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} AND d.deptype IN ('a', 'i', 'e'))`;
/** What the provisioning login owns in the connected database: ALTER statements handing each to the login `$1`. */
const ADOPTION_STATEMENTS = `
  WITH me AS (SELECT oid FROM pg_roles WHERE rolname = current_user)
  SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, $1::text) AS statement
    FROM pg_namespace n, me WHERE n.nspowner = me.oid AND ${USER_SCHEMA}
  UNION ALL
  SELECT format('ALTER %s %s OWNER TO %I',
           CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                          WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END,
           c.oid::regclass, $1::text)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, me
   WHERE c.relowner = me.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND ${USER_SCHEMA}
     AND ${STANDALONE('pg_class', 'c.oid')}
  UNION ALL
  SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, $1::text)
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace, me
   WHERE t.typowner = me.oid AND t.typtype IN ('e', 'd', 'r') AND ${USER_SCHEMA} AND ${STANDALONE('pg_type', 't.oid')}
  UNION ALL
  SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, me
   WHERE p.proowner = me.oid AND ${USER_SCHEMA} AND ${STANDALONE('pg_proc', 'p.oid')}`;
/** How many relations, types and routines of the connected database's own schemas another role than `$1` owns. */
const FOREIGN_OWNED = `
  SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relowner <> $1::regrole AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND ${USER_SCHEMA})
       + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE t.typowner <> $1::regrole AND t.typtype IN ('e', 'd', 'r') AND ${USER_SCHEMA})
       + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.proowner <> $1::regrole AND ${USER_SCHEMA}) AS n`;

/**
 * Runs `statement` again (up to 5 times) when PostgreSQL reports `tuple concurrently updated`
 * (XX000): two sessions changed one catalog row (a database's owner or grants) at once. The
 * statements given are idempotent.
 */
async function retryConcurrentUpdate<T>(statement: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await statement();
    } catch (error) {
      if (attempt >= 5 || !/tuple concurrently updated/.test((error as Error).message)) throw error;
    }
  }
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

/** The login of a PostgreSQL placement with a database of its own: `<database>_login`. */
export function tenantLoginName(database: string): string {
  assertDatabaseName(database);
  const name = `${database}_login`;
  assertDatabaseName(name);
  return name;
}

/** Whether a server URL's user is a placement's own login (`ps_<store>_<32 hex>_login`: {@link tenantLoginName}). */
export function isTenantLogin(username: string | undefined): boolean {
  return username !== undefined && /^ps_[a-z]+_[0-9a-f]{32}_login$/.test(username);
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
   * PostgreSQL: lets a store provision its `schema` placements on the server of `adminUrl` with
   * its runtime login alone, so the store process needs no login with `CREATEROLE` there (which,
   * on PostgreSQL 15, may make itself a member of any other store's tenant roles). Creates (or
   * updates) the store's shared database `sharedDatabase`, its runtime login and batch role, and
   * in the shared database two `SECURITY DEFINER` functions owned by the provisioning login
   * `provisioner`, which only the runtime login may call:
   *
   * - `polystore_admin.ensure_tenant_schema(name)`: the tenant role `name` (`NOLOGIN`), the
   *   runtime login's and the provisioner's membership, the schema `name` owned by it; true when
   *   the schema was created.
   * - `polystore_admin.drop_tenant_schema(name)`: the schema with everything in it, what the role
   *   owns there, and the role; true when the schema existed.
   *
   * Both refuse (`42501`) any name but `<runtime.databasePrefix><32 hex digits>`: the store's own
   * tenants. Idempotent; run again after an upgrade (the functions are replaced).
   */
  async ensureSchemaProvisioning(
    adminUrl: string,
    provisioner: string,
    runtime: RuntimeLogin,
    sharedDatabase: string,
  ): Promise<void> {
    const address = parseServerUrl(adminUrl);
    if (address.dialect !== 'postgres')
      throw DataRouterException.invalidPlacement('provisioning functions are for PostgreSQL servers');
    for (const name of [provisioner, runtime.username, sharedDatabase]) assertDatabaseName(name);
    const prefix = runtime.databasePrefix;
    if (prefix === undefined || !/^[a-z][a-z0-9_]{0,29}$/.test(prefix))
      throw DataRouterException.invalidPlacement("the runtime login needs the prefix of its store's tenants");
    await withAdminConnection(address, async (ds) => {
      if (await ensureDatabaseOn(ds, address, sharedDatabase))
        await ds.query(`ALTER DATABASE "${sharedDatabase}" OWNER TO "${provisioner}"`);
      await ds.query(`GRANT CONNECT, CREATE, TEMPORARY ON DATABASE "${sharedDatabase}" TO "${provisioner}"`);
      await ensureRuntimeLoginOn(ds, address, runtime);
    });
    const name = 'tenant';
    // Both functions: only the store's own tenant names, one call per name at a time.
    const definedAs = (body: string) => `(${name} text) RETURNS boolean
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
      DECLARE existed boolean;
      BEGIN
        IF ${name} IS NULL OR ${name} !~ '^${prefix}[0-9a-f]{32}$' THEN
          RAISE EXCEPTION 'not a tenant schema of this store: %', ${name} USING ERRCODE = '42501';
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('polystore tenant role ' || ${name}));
        existed := EXISTS (SELECT FROM pg_namespace WHERE nspname = ${name});
        ${body}
      END $fn$`;
    await withAdminConnection(
      address,
      async (ds) => {
        // Made as the provisioning login, so it owns the functions and they run with its rights;
        // what another provisioning login made before is handed over first.
        await ds.query(
          `DO $$ DECLARE f regprocedure; BEGIN
             IF EXISTS (SELECT FROM pg_namespace WHERE nspname = '${PROVISIONING_SCHEMA}') THEN
               EXECUTE 'ALTER SCHEMA ${PROVISIONING_SCHEMA} OWNER TO "${provisioner}"';
               FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                          JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '${PROVISIONING_SCHEMA}'
               LOOP
                 EXECUTE format('ALTER FUNCTION %s OWNER TO %I', f, '${provisioner}');
               END LOOP;
             END IF;
           END $$`,
        );
        await ds.query(`SET ROLE "${provisioner}"`);
        await ds.query(`CREATE SCHEMA IF NOT EXISTS ${PROVISIONING_SCHEMA}`);
        await ds.query(
          `CREATE OR REPLACE FUNCTION ${PROVISIONING_SCHEMA}.ensure_tenant_schema${definedAs(`
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${name}) THEN
              EXECUTE format('CREATE ROLE %I NOLOGIN', ${name});
            END IF;
            EXECUTE format('GRANT %I TO %I', ${name}, '${runtime.username}');
            EXECUTE format('GRANT %I TO CURRENT_USER', ${name});
            EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', ${name}, ${name});
            RETURN NOT existed;`)}`,
        );
        await ds.query(
          `CREATE OR REPLACE FUNCTION ${PROVISIONING_SCHEMA}.drop_tenant_schema${definedAs(`
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = ${name}) THEN
              EXECUTE format('GRANT %I TO CURRENT_USER', ${name});
              EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', ${name});
              EXECUTE format('DROP OWNED BY %I', ${name});
              EXECUTE format('DROP ROLE %I', ${name});
            ELSE
              EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', ${name});
            END IF;
            RETURN existed;`)}`,
        );
        for (const fn of ['ensure_tenant_schema', 'drop_tenant_schema']) {
          await ds.query(`REVOKE ALL ON FUNCTION ${PROVISIONING_SCHEMA}.${fn}(text) FROM PUBLIC`);
          await ds.query(`GRANT EXECUTE ON FUNCTION ${PROVISIONING_SCHEMA}.${fn}(text) TO "${runtime.username}"`);
        }
        await ds.query(`GRANT USAGE ON SCHEMA ${PROVISIONING_SCHEMA} TO "${runtime.username}"`);
        await ds.query('RESET ROLE');
      },
      sharedDatabase,
    );
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
   * PostgreSQL `database` and `dedicated` placements: creates (or updates: attributes, password)
   * the placement's own login ({@link tenantLoginName}: `LOGIN NOCREATEDB NOCREATEROLE`, a member
   * of no role; it inherits, so that as the database's owner it holds `pg_database_owner`'s
   * `public` schema) and its database, owned by that login, which only that login (and the
   * administrative login of `adminUrl`) may connect to. The store then reaches the placement with
   * that login alone: it owns what its migrations create, and can reach no other tenant's
   * database, nor make or take any role. The administrative login becomes a member of the login
   * (to create a database it owns, and to move and drop it later). Idempotent; true when this call
   * created the database.
   */
  async ensureTenantDatabase(adminUrl: string, database: string, login: ServerLogin): Promise<boolean> {
    const address = parseServerUrl(adminUrl);
    if (address.dialect !== 'postgres')
      throw DataRouterException.invalidPlacement('placement logins are PostgreSQL roles');
    const { name, password } = checked(login);
    if (name !== tenantLoginName(database))
      throw DataRouterException.invalidPlacement(`the login of ${database} is ${tenantLoginName(database)}`);
    const secret = password === undefined ? '' : ` PASSWORD '${password}'`;
    return withAdminConnection(address, async (ds) => {
      await ensurePostgresLogin(ds, name, 'INHERIT NOCREATEDB NOCREATEROLE', secret);
      // Two provisionings at once may both grant: the loser's unique violation means granted.
      await ds.query(`DO $$ BEGIN GRANT "${name}" TO CURRENT_USER; EXCEPTION WHEN unique_violation THEN NULL; END $$`);
      const created = await ensureDatabaseOn(ds, address, database);
      // Two at once may update the database's row together; the loser's statement is tried again.
      for (const statement of [
        `ALTER DATABASE "${database}" OWNER TO "${name}"`,
        `REVOKE ALL ON DATABASE "${database}" FROM PUBLIC`,
        `GRANT CONNECT, TEMPORARY ON DATABASE "${database}" TO CURRENT_USER`,
      ])
        await retryConcurrentUpdate(() => ds.query(statement));
      return created;
    });
  },

  /**
   * Gives a `database` or `dedicated` placement made before placements had logins of their own
   * (its database made, and its objects owned, by the provisioning login of `adminUrl`) the login
   * it would get today, in place: {@link ensureTenantDatabase} (the login, the database's owner,
   * `CONNECT` for it and the provisioning login alone), then, in one transaction, every schema,
   * table, view, sequence, type and routine of the database that the provisioning login owns
   * changes hands to the login. Not `REASSIGN OWNED`: it would also hand the login every other
   * database the provisioning login owns. Each change locks its object until the commit (moments).
   * Idempotent; returns how many objects changed hands. `INVALID_PLACEMENT`, after the change, when
   * objects of another role are left (made by a superuser, say): the login could not use them.
   */
  async adoptTenantDatabase(adminUrl: string, database: string, login: ServerLogin): Promise<number> {
    await ServerRoles.ensureTenantDatabase(adminUrl, database, login);
    const { name } = checked(login);
    return withAdminConnection(
      parseServerUrl(adminUrl),
      (ds) =>
        ds.transaction(async (manager) => {
          const statements = await manager.query<Array<{ statement: string }>>(ADOPTION_STATEMENTS, [name]);
          for (const { statement } of statements) await manager.query(statement);
          const [left] = await manager.query<Array<{ n: string }>>(FOREIGN_OWNED, [name]);
          if (Number(left?.n ?? 0) > 0)
            throw DataRouterException.invalidPlacement(
              `${left!.n} objects in ${database} belong to another role than the provisioning login: give them to ${name} as their owner`,
            );
          return statements.length;
        }),
      database,
    );
  },

  /**
   * Drops a placement's database and its own login ({@link ensureTenantDatabase}), as the
   * administrative login of `adminUrl`; idempotent, true when either existed.
   */
  async dropTenantDatabase(adminUrl: string, database: string): Promise<boolean> {
    const address = parseServerUrl(adminUrl);
    if (address.dialect !== 'postgres')
      throw DataRouterException.invalidPlacement('placement logins are PostgreSQL roles');
    const name = tenantLoginName(database);
    const dropped = await DatabaseAdmin.dropDatabase(adminUrl, database);
    return withAdminConnection(address, async (ds) => {
      const roles: unknown[] = await ds.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      if (roles.length === 0) return dropped;
      await ds.query(`DROP ROLE IF EXISTS "${name}"`);
      return true;
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
