import { DataSource } from 'typeorm';
import { checkedCluster, connectionOptions, maintenanceDatabase } from './internal/connection-options.js';
import { failureReason, isUnreachable } from './internal/failure.js';
import { DataRouterException } from './data-router.exception.js';
import { assertDatabaseName, parseServerUrl, quoteDatabaseName, type ServerAddress } from './placement.js';
import { mysqlErrnoOf, sqlStateOf } from './sql-errors.js';

const ADMIN_SETTINGS = { poolSize: 1, applicationName: 'polystore-admin', connectTimeoutMs: 5_000 };

/** Runs `work` on a short-lived administrative connection to `database` (by default the maintenance one). */
export async function withAdminConnection<T>(
  address: ServerAddress,
  work: (ds: DataSource) => Promise<T>,
  database = maintenanceDatabase(address.dialect),
): Promise<T> {
  const ds = new DataSource(connectionOptions(address, database, { entities: [] }, ADMIN_SETTINGS));
  try {
    await checkedCluster(address);
    await ds.initialize();
  } catch (error) {
    throw DataRouterException.unavailable(address.id, failureReason(error), error);
  }
  try {
    return await work(ds);
  } finally {
    await ds.destroy().catch(() => undefined);
  }
}

/**
 * MongoDB: a short-lived TypeORM `mongodb` DataSource (same connection options as the router's,
 * credentials authenticated against `admin`) gives the driver's client for admin commands.
 */
function mongoClientOf(ds: DataSource) {
  return ds.mongoManager.mongoQueryRunner.databaseConnection;
}

async function mongoDatabaseExists(ds: DataSource, database: string): Promise<boolean> {
  const { databases } = await mongoClientOf(ds)
    .db('admin')
    .admin()
    .listDatabases({ nameOnly: true, filter: { name: database } });
  return databases.some((d) => d.name === database);
}

const DUPLICATE_DATABASE = new Set(['42P04', 'ER_DB_CREATE_EXISTS']);

/**
 * The database exists already. On PostgreSQL, two CREATE DATABASE of one name racing each
 * other (processes starting together on a new system database) fail the loser with a unique
 * violation on `pg_database`, not with 42P04.
 */
function isDuplicateDatabase(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError;
  if (!driverError?.code) return false;
  return (
    DUPLICATE_DATABASE.has(driverError.code) ||
    (driverError.code === '23505' && driverError.constraint === 'pg_database_datname_index')
  );
}

/**
 * Creating and dropping whole databases on a server: the administrative side of placements.
 * Names are validated against `^[a-z][a-z0-9_]{0,62}$` and quoted; they come from the catalog.
 * Every operation is idempotent.
 */
export const DatabaseAdmin = {
  /** Creates `database` on the server unless it exists; true when this call created it. */
  async ensureDatabase(serverUrl: string, database: string): Promise<boolean> {
    assertDatabaseName(database);
    const address = parseServerUrl(serverUrl);
    if (address.dialect === 'mongodb') return false; // MongoDB creates databases on first write.
    return withAdminConnection(address, (ds) => ensureDatabaseOn(ds, address, database));
  },

  /**
   * Drops `database` (terminating its sessions on PostgreSQL; MongoDB's `dropDatabase` command);
   * true when it existed.
   */
  async dropDatabase(serverUrl: string, database: string): Promise<boolean> {
    assertDatabaseName(database);
    const address = parseServerUrl(serverUrl);
    if (address.dialect === 'mongodb') {
      return withAdminConnection(address, async (ds) => {
        if (!(await mongoDatabaseExists(ds, database))) return false;
        await mongoClientOf(ds).db(database).dropDatabase();
        return true;
      });
    }
    return withAdminConnection(address, async (ds) => {
      if (!(await exists(ds, address, database))) return false;
      const force = address.dialect === 'postgres' ? ' WITH (FORCE)' : '';
      await ds.query(`DROP DATABASE IF EXISTS ${quoteDatabaseName(address.dialect, database)}${force}`);
      return true;
    });
  },

  /** True when `database` exists on the server (on MongoDB: once something was written to it). */
  async databaseExists(serverUrl: string, database: string): Promise<boolean> {
    assertDatabaseName(database);
    const address = parseServerUrl(serverUrl);
    if (address.dialect === 'mongodb') return withAdminConnection(address, (ds) => mongoDatabaseExists(ds, database));
    return withAdminConnection(address, (ds) => exists(ds, address, database));
  },
};

/**
 * Creates `database` through the administrative connection `ds` to the server of `address` unless
 * it exists (a concurrent creation counts as existing); true when this call created it.
 */
export async function ensureDatabaseOn(ds: DataSource, address: ServerAddress, database: string): Promise<boolean> {
  assertDatabaseName(database);
  if (await exists(ds, address, database)) return false;
  try {
    const charset = address.dialect === 'postgres' ? '' : ' CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
    await ds.query(`CREATE DATABASE ${quoteDatabaseName(address.dialect, database)}${charset}`);
    return true;
  } catch (error) {
    if (isDuplicateDatabase(error)) return false;
    if (isUnreachable(error)) throw DataRouterException.unavailable(address.id, failureReason(error), error);
    throw error;
  }
}

async function exists(ds: DataSource, address: ServerAddress, database: string): Promise<boolean> {
  const rows: unknown[] =
    address.dialect === 'postgres'
      ? await ds.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
      : await ds.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [database]);
  return rows.length > 0;
}

/** The login of a store's shared pools (see {@link SchemaAdmin} and {@link MysqlRuntimeLogin}). */
export interface RuntimeLogin {
  readonly username: string;
  readonly password?: string;
  /**
   * MySQL/MariaDB: the login gets every right (no `GRANT OPTION`) on the databases whose names
   * start with this prefix (the store's placements, `ps_<store>_`) and nothing else. Without it,
   * MySQL/MariaDB shared pools log in as the server URL's user.
   */
  readonly databasePrefix?: string;
  /**
   * PostgreSQL: a store-wide `NOLOGIN` role (`ps_<store>_batch`) the login is a member of, for
   * units of work that span the store's tenants on one server (`DataSourceRouter.runSpanning`).
   * It is created with the login and holds no right until the store's own migrations grant it
   * some, table by table, in each tenant schema (the secure store: appending to the audit chain).
   */
  readonly batchRole?: string;
}

/** MySQL/MariaDB `ER_SPECIFIC_ACCESS_DENIED_ERROR`: a global right (here `CREATE USER`) is missing. */
const SPECIFIC_ACCESS_DENIED = 1227;

/** Role passwords are spliced into DDL (no parameters there): only these characters pass. */
export const SAFE_PASSWORD = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * `schema` placements on PostgreSQL: one shared database per store and server, a schema per
 * tenant owned by a role of the same name (`NOLOGIN`), and one runtime login role per store,
 * `NOINHERIT` and a member of every tenant role of the store: it has no rights of its own, so a
 * query that ran without the router's binding (`set_config('role', ...)`) reads nothing.
 * Names come from the catalog and are validated and quoted; every operation is idempotent and
 * safe to run from several processes at once.
 */
export const SchemaAdmin = {
  /**
   * Creates (if missing) the shared database, the runtime login role, the tenant's role, its
   * membership in the runtime role and the tenant's schema owned by its role; true when the schema
   * was created by this call. When the server URL's user is the store's runtime login itself (the
   * store holds no provisioning login for that server), the tenant's role and schema are made by
   * the provisioning function `polystore_admin.ensure_tenant_schema` that `polystore db-roles`
   * installed in the shared database (`ServerRoles.ensureSchemaProvisioning`), and the shared
   * database and the login must exist already. Otherwise an existing runtime login gets the given
   * password again (it derives from the store's key, which may have been rotated or, before store
   * keys, derived otherwise), once per process and server: concurrent provisions share that step.
   */
  async ensureTenantSchema(
    serverUrl: string,
    database: string,
    schema: string,
    runtime: RuntimeLogin,
  ): Promise<boolean> {
    const address = parseServerUrl(serverUrl);
    assertPostgres(address);
    if (address.username === runtime.username)
      return callProvisioningFunction(address, database, 'ensure_tenant_schema', schema, runtime);
    const role = quoteIdentifier(schema);
    const login = quoteIdentifier(runtime.username);
    if (runtime.password !== undefined && !SAFE_PASSWORD.test(runtime.password))
      throw DataRouterException.invalidPlacement('runtime password must be 16-128 characters of [A-Za-z0-9_-]');
    // The shared database is made sure of once per process, server and login: one administrative
    // connection (a PostgreSQL backend started, about 5.7 ms of server CPU here) fewer per tenant.
    const shared = sharedDatabaseKey(address, database);
    if (!sharedDatabases.has(shared)) {
      await DatabaseAdmin.ensureDatabase(serverUrl, database);
      sharedDatabases.add(shared);
    }
    const onSchema = () =>
      withAdminConnection(
        address,
        async (ds) => {
          const existed = await schemaExists(ds, schema);
          const ensureTenant = () =>
            ds.query(
              `${ensureRoleSql(schema)}
             GRANT ${role} TO ${login};
             GRANT ${role} TO CURRENT_USER;
             CREATE SCHEMA IF NOT EXISTS ${role} AUTHORIZATION ${role};`,
            );
          await ensureRuntimeLoginOn(ds, address, runtime);
          await ensureTenant().catch(async (error: unknown) => {
            // The login was dropped behind this process's back since it made it current: again, once.
            if ((error as { code?: string }).code !== UNDEFINED_OBJECT) throw error;
            forgetRuntimeLogin(address, runtime);
            await ensureRuntimeLoginOn(ds, address, runtime);
            await ensureTenant();
          });
          return !existed;
        },
        database,
      );
    return onSchema().catch(async (error: unknown) => {
      // The shared database was dropped behind this process's back: made again, once.
      if (!isMissingDatabase(error)) throw error;
      await DatabaseAdmin.ensureDatabase(serverUrl, database);
      return onSchema();
    });
  },

  /**
   * Creates the store's batch role (`RuntimeLogin.batchRole`) if missing, and makes the runtime
   * login a member when the login exists: for servers whose schemas were provisioned before the
   * role existed, ahead of the migrations that grant it rights (`polystore migrate`). Idempotent.
   */
  async ensureBatchRole(serverUrl: string, login: string, batchRole: string): Promise<void> {
    const address = parseServerUrl(serverUrl);
    assertPostgres(address);
    await withAdminConnection(address, async (ds) => {
      await ds.query(
        `${ensureRoleSql(batchRole)}
         DO $$ BEGIN
           IF EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(login)}) THEN
             EXECUTE 'GRANT ${quoteIdentifier(batchRole)} TO ${quoteIdentifier(login)}';
           END IF;
         END $$`,
      );
    });
  },

  /**
   * Drops the tenant's schema (with everything in it) and its role, and whatever else the role
   * owns in the shared database (a schema a move renamed away and kept); true when the schema
   * existed. With a server URL naming the store's runtime login (`runtime`), through the
   * provisioning function, as {@link ensureTenantSchema}.
   */
  async dropTenantSchema(
    serverUrl: string,
    database: string,
    schema: string,
    runtime?: RuntimeLogin,
  ): Promise<boolean> {
    const address = parseServerUrl(serverUrl);
    assertPostgres(address);
    const role = quoteIdentifier(schema);
    if (runtime !== undefined && address.username === runtime.username)
      return callProvisioningFunction(address, database, 'drop_tenant_schema', schema, runtime);
    if (!(await DatabaseAdmin.databaseExists(serverUrl, database))) return false;
    return withAdminConnection(
      address,
      async (ds) => {
        const existed = await schemaExists(ds, schema);
        await grantToProvisioner(ds, schema);
        await ds.query(`DROP SCHEMA IF EXISTS ${role} CASCADE;`);
        await dropRoleOn(ds, schema);
        return existed;
      },
      database,
    );
  },

  /** Drops one schema of the shared database with everything in it (not its owner); true when it existed. */
  async dropSchema(serverUrl: string, database: string, schema: string): Promise<boolean> {
    const address = parseServerUrl(serverUrl);
    assertPostgres(address);
    const quoted = quoteIdentifier(schema);
    return withAdminConnection(
      address,
      async (ds) => {
        const existed = await schemaExists(ds, schema);
        await ds.query(`DROP SCHEMA IF EXISTS ${quoted} CASCADE`);
        return existed;
      },
      database,
    );
  },

  /** Drops a tenant role, and what it owns in `database`. */
  async dropRole(serverUrl: string, database: string, role: string): Promise<void> {
    const address = parseServerUrl(serverUrl);
    assertPostgres(address);
    await withAdminConnection(
      address,
      async (ds) => {
        await grantToProvisioner(ds, role);
        await dropRoleOn(ds, role);
      },
      database,
    );
  },
};

/**
 * `database` placements on MySQL/MariaDB share one pool per server, which logs in as the store's
 * runtime login: a user with every right on the store's databases only (a pattern grant on
 * `<prefix>%`, so databases created later are covered without another grant) and `SELECT` on the
 * empty landing database the pool rests in. Made by the operator's tool (`polystore db-roles`:
 * `ServerRoles.ensureMysqlRuntimeLogins`) with an administrative login; a store whose server URL
 * has the provisioning login (no `CREATE USER`: see `ServerRoles`) finds it made. Idempotent; the
 * password is set again.
 */
export const MysqlRuntimeLogin = {
  /**
   * Creates or updates the login as the user of `serverUrl`; false, with nothing changed, when
   * that user may not manage accounts (the provisioning login): the login is then the operator's
   * to make, and a pool that cannot log in as it fails, naming it.
   */
  async ensure(serverUrl: string, runtime: RuntimeLogin, landingDatabase: string): Promise<boolean> {
    const address = parseServerUrl(serverUrl);
    if (address.dialect !== 'mysql' && address.dialect !== 'mariadb')
      throw DataRouterException.invalidPlacement('a MySQL runtime login needs a MySQL/MariaDB server');
    const prefix = runtime.databasePrefix;
    if (prefix === undefined || !/^[a-z][a-z0-9_]{0,40}$/.test(prefix))
      throw DataRouterException.invalidPlacement('runtime database prefix must match ^[a-z][a-z0-9_]{0,40}$');
    assertDatabaseName(runtime.username);
    assertDatabaseName(landingDatabase);
    if (runtime.password !== undefined && !SAFE_PASSWORD.test(runtime.password))
      throw DataRouterException.invalidPlacement('runtime password must be 16-128 characters of [A-Za-z0-9_-]');
    const user = `'${runtime.username}'@'%'`;
    const identified = runtime.password === undefined ? '' : ` IDENTIFIED BY '${runtime.password}'`;
    // Database names in grants are patterns: `_` is escaped. A login granting through a pattern
    // grant of its own (the provisioning login's) may only grant on patterns, not on plain names.
    const escaped = (name: string) => name.replace(/_/g, '\\_');
    return withAdminConnection(address, async (ds) => {
      try {
        await ds.query(`CREATE USER IF NOT EXISTS ${user}${identified}`);
      } catch (error) {
        if (mysqlErrnoOf(error) === SPECIFIC_ACCESS_DENIED) return false;
        throw error;
      }
      if (identified) await ds.query(`ALTER USER ${user}${identified}`);
      await ds.query(`GRANT ALL PRIVILEGES ON \`${escaped(prefix)}%\`.* TO ${user}`);
      await ds.query(`GRANT SELECT ON \`${escaped(landingDatabase)}\`.* TO ${user}`);
      return true;
    });
  },
};

/** Shared databases this process has made sure of: see `ensureTenantSchema`. */
const sharedDatabases = new Set<string>();

/**
 * The schema, in a store's shared database, of the provisioning functions (`SECURITY DEFINER`,
 * owned by the provisioning login): what a store's runtime login may do instead of holding a login
 * with `CREATEROLE` (see `ServerRoles.ensureSchemaProvisioning`).
 */
export const PROVISIONING_SCHEMA = 'polystore_admin';

/** PostgreSQL `undefined_function` and `invalid_schema_name`: the provisioning functions are not installed. */
const MISSING_FUNCTION = new Set(['42883', '3F000']);
/** PostgreSQL `invalid_password` and `invalid_authorization_specification` (no such login). */
const INVALID_PASSWORD = '28P01';
const INVALID_AUTHORIZATION = '28000';

/**
 * Runs `polystore_admin.<fn>(schema)` in `database` as the runtime login, on the server of
 * `address`: creates or drops a tenant schema and role of the store without a provisioning login.
 */
async function callProvisioningFunction(
  address: ServerAddress,
  database: string,
  fn: 'ensure_tenant_schema' | 'drop_tenant_schema',
  schema: string,
  runtime: RuntimeLogin,
): Promise<boolean> {
  assertDatabaseName(schema);
  const login: ServerAddress = {
    ...address,
    username: runtime.username,
    ...(runtime.password === undefined ? {} : { password: runtime.password }),
  };
  try {
    return await withAdminConnection(
      login,
      async (ds) => {
        const rows: Array<{ done: boolean }> = await ds.query(`SELECT ${PROVISIONING_SCHEMA}.${fn}($1) AS done`, [
          schema,
        ]);
        return rows[0]!.done;
      },
      database,
    );
  } catch (error) {
    // Nothing to drop where the shared database is gone.
    if (fn === 'drop_tenant_schema' && isMissingDatabase(error)) return false;
    const code = sqlStateOf(error);
    if (isMissingDatabase(error) || (code !== undefined && MISSING_FUNCTION.has(code)))
      throw DataRouterException.invalidPlacement(
        `${database} on ${address.id} has no provisioning functions for ${runtime.username}: run \`polystore db-roles\``,
      );
    if (code === INVALID_PASSWORD || code === INVALID_AUTHORIZATION)
      throw DataRouterException.invalidPlacement(
        `${address.id} refused ${runtime.username} (its password derives from the store key): run \`polystore db-roles\``,
      );
    throw error;
  }
}

/** Per server, login and database (two logins may not see the same databases). */
function sharedDatabaseKey(address: ServerAddress, database: string): string {
  return JSON.stringify([address.id, address.username ?? null, database]);
}

/** PostgreSQL `invalid_catalog_name`: the database connected to does not exist (possibly wrapped). */
function isMissingDatabase(error: unknown): boolean {
  return sqlStateOf(error) === '3D000';
}

/** Runtime logins this process has made current, per server: see {@link ensureRuntimeLoginOn}. */
const currentLogins = new Map<string, Promise<void>>();

/**
 * Creates the runtime login (or gives it its password again) and the store's batch role with the
 * login's membership, once per process and server: provisioning many tenants at once would
 * otherwise update the login's catalog row from every one of them (`ALTER ROLE ... PASSWORD`),
 * and PostgreSQL fails all but one of such concurrent updates ("tuple concurrently updated").
 * Other processes provisioning at the same moment are kept apart by a transaction-scoped advisory
 * lock on the login's name.
 */
export function ensureRuntimeLoginOn(ds: DataSource, address: ServerAddress, runtime: RuntimeLogin): Promise<void> {
  const key = runtimeLoginKey(address, runtime);
  let current = currentLogins.get(key);
  if (!current) {
    const login = quoteIdentifier(runtime.username);
    const password = runtime.password === undefined ? '' : ` PASSWORD '${runtime.password}'`;
    const batch = runtime.batchRole === undefined ? undefined : quoteIdentifier(runtime.batchRole);
    // One simple-protocol message: one implicit transaction, which the advisory lock spans.
    current = ds
      .query(
        `SELECT pg_advisory_xact_lock(hashtext('polystore runtime login ' || ${literal(runtime.username)}));
         DO $$ BEGIN
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(runtime.username)}) THEN
             CREATE ROLE ${login} LOGIN NOINHERIT${password};
           ${password ? `ELSE ALTER ROLE ${login}${password};` : ''}
           END IF;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
         END $$;
         ${batch ? `${ensureRoleSql(runtime.batchRole!)} GRANT ${batch} TO ${login};` : ''}`,
      )
      .then(() => undefined);
    currentLogins.set(key, current);
    current.catch(() => {
      if (currentLogins.get(key) === current) currentLogins.delete(key);
    });
  }
  return current;
}

function forgetRuntimeLogin(address: ServerAddress, runtime: RuntimeLogin): void {
  currentLogins.delete(runtimeLoginKey(address, runtime));
}

function runtimeLoginKey(address: ServerAddress, runtime: RuntimeLogin): string {
  return [address.id, runtime.username, runtime.password ?? '', runtime.batchRole ?? ''].join('\u0000');
}

/** PostgreSQL: a role (or another object) named in a statement does not exist. */
const UNDEFINED_OBJECT = '42704';

/** Creates the `NOLOGIN` role `name` unless it exists (safe from several processes at once). */
function ensureRoleSql(name: string): string {
  return `DO $$ BEGIN
             IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(name)}) THEN
               CREATE ROLE ${quoteIdentifier(name)} NOLOGIN;
             END IF;
           EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
           END $$;`;
}

function assertPostgres(address: ServerAddress): void {
  if (address.dialect !== 'postgres') throw DataRouterException.invalidPlacement('schema placements need PostgreSQL');
}

/** A validated name, double-quoted. */
function quoteIdentifier(name: string): string {
  assertDatabaseName(name);
  return `"${name}"`;
}

/** A validated name as a string literal (for catalog lookups inside DO blocks). */
function literal(name: string): string {
  assertDatabaseName(name);
  return `'${name}'`;
}

/**
 * Makes the connection's login a member of a tenant role, when the role exists. A provisioning
 * login without superuser rights (`CREATEROLE`, see `ServerRoles`) may only create a schema owned
 * by a role, drop what the role owns or drop the schema as a member of that role (PostgreSQL 15);
 * for a superuser the membership changes nothing.
 */
async function grantToProvisioner(ds: DataSource, role: string): Promise<void> {
  await ds.query(
    `DO $$ BEGIN
       IF EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role)}) THEN
         EXECUTE 'GRANT ${quoteIdentifier(role)} TO CURRENT_USER';
       END IF;
     END $$`,
  );
}

/** `DROP OWNED BY` (in the connection's database) then `DROP ROLE`, when the role exists. */
async function dropRoleOn(ds: DataSource, role: string): Promise<void> {
  const quoted = quoteIdentifier(role);
  await ds.query(
    `DO $$ BEGIN
       IF EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role)}) THEN
         EXECUTE 'DROP OWNED BY ${quoted}';
         EXECUTE 'DROP ROLE ${quoted}';
       END IF;
     END $$`,
  );
}

async function schemaExists(ds: DataSource, schema: string): Promise<boolean> {
  const rows: unknown[] = await ds.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length > 0;
}
