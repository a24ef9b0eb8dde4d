import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DatabaseAdmin, ServerRoles, tenantLoginName } from '#polystore/data-router';
import { pgQueryAs, type PgLogin } from '../../../test/support/pg.js';
import { PrivatePostgres } from '../../../test/support/postgres-server.js';

const tenantDatabase = (store: string) => `ps_${store}_${randomBytes(16).toString('hex')}`;
const loginOf = (database: string) => ({
  username: tenantLoginName(database),
  password: randomBytes(24).toString('base64url'),
});

/**
 * `database` and `dedicated` placements on PostgreSQL with a login of their own
 * (`ServerRoles.ensureTenantDatabase`): the provisioning login makes the placement's login and
 * database, and the store reaches the placement with that login alone. On a private PostgreSQL
 * that checks passwords, as the provisioning login (no superuser), so the logins are what the
 * test says they are.
 */
describe('data-router - a PostgreSQL database placement with a login of its own (private PostgreSQL)', () => {
  const provisioner = { username: 'polystore_provisioner', password: 'p'.repeat(24) };
  let server: PrivatePostgres;
  const urlAs = (login: { username: string; password?: string }) =>
    `postgres://${login.username}${login.password ? `:${login.password}` : ''}@127.0.0.1:${server.port}`;
  const adminUrl = () => urlAs(provisioner);
  /** Statements as `login` in `database`; rejects with the server's error. */
  const queryAs = (login: PgLogin, database: string, sql: string, params: unknown[] = []) =>
    pgQueryAs(server.port, login, database, sql, params);
  const root = { username: 'root' };

  beforeAll(async () => {
    server = await PrivatePostgres.create({ checkPasswords: true });
    await ServerRoles.ensureProvisioner(server.url, provisioner);
  }, 60_000);

  afterAll(() => server?.destroy());

  it('placement login - the provisioning login makes it and its database, idempotently; the login owns what it creates and holds no other right', async () => {
    const database = tenantDatabase('edge');
    const login = loginOf(database);
    await expect(ServerRoles.ensureTenantDatabase(adminUrl(), database, login)).resolves.toBe(true);
    await expect(ServerRoles.ensureTenantDatabase(adminUrl(), database, login)).resolves.toBe(false);
    expect(
      await queryAs(
        root,
        'postgres',
        `SELECT pg_get_userbyid(d.datdba) AS owner, r.rolcreatedb, r.rolcreaterole, r.rolinherit, r.rolsuper,
                (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS memberships
           FROM pg_database d, pg_roles r WHERE d.datname = $1 AND r.rolname = $2`,
        [database, login.username],
      ),
    ).toEqual([
      {
        owner: login.username,
        rolcreatedb: false,
        rolcreaterole: false,
        rolinherit: true, // of no role but pg_database_owner (its database's public schema)
        rolsuper: false,
        memberships: 0,
      },
    ]);
    // What the store's migrations and queries do, as the login.
    await queryAs(login, database, 'CREATE TABLE readings (id int); INSERT INTO readings VALUES (7)');
    expect(await queryAs(login, database, 'SELECT id FROM readings')).toEqual([{ id: 7 }]);
    // A wrong password is refused (the server checks passwords).
    await expect(queryAs({ ...login, password: 'w'.repeat(24) }, database, 'SELECT 1')).rejects.toMatchObject({
      code: '28P01',
    });
    // Running it again with a new password (a rotated store key) updates it.
    const rotated = { ...login, password: randomBytes(24).toString('base64url') };
    await ServerRoles.ensureTenantDatabase(adminUrl(), database, rotated);
    expect(await queryAs(rotated, database, 'SELECT count(*)::int AS n FROM readings')).toEqual([{ n: 1 }]);
    await expect(queryAs(login, database, 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
    await expect(ServerRoles.dropTenantDatabase(adminUrl(), database)).resolves.toBe(true);
  });

  it("placement login - another placement's login reaches nothing of it: no connection, no role, no new role or database (the test can fail)", async () => {
    const secureDb = tenantDatabase('secure');
    const secure = loginOf(secureDb);
    const edgeDb = tenantDatabase('edge');
    const edge = loginOf(edgeDb);
    await ServerRoles.ensureTenantDatabase(adminUrl(), secureDb, secure);
    await ServerRoles.ensureTenantDatabase(adminUrl(), edgeDb, edge);
    await queryAs(secure, secureDb, 'CREATE TABLE customers (email text); INSERT INTO customers VALUES ($$a@b.c$$)');
    // The check itself: the provisioning login, a member of both, gets in.
    expect(await queryAs(provisioner, secureDb, 'SELECT count(*)::int AS n FROM pg_database')).toHaveLength(1);
    await expect(queryAs(edge, secureDb, 'SELECT 1')).rejects.toMatchObject({ code: '42501' });
    await expect(queryAs(edge, edgeDb, `SET ROLE "${secure.username}"`)).rejects.toMatchObject({ code: '42501' });
    await expect(queryAs(edge, edgeDb, `GRANT "${secure.username}" TO "${edge.username}"`)).rejects.toMatchObject({
      code: '42501',
    });
    await expect(queryAs(edge, edgeDb, 'CREATE ROLE intruder LOGIN')).rejects.toMatchObject({ code: '42501' });
    await expect(queryAs(edge, edgeDb, 'CREATE DATABASE intruder')).rejects.toMatchObject({ code: '42501' });
    await expect(queryAs(edge, edgeDb, `ALTER ROLE "${secure.username}" PASSWORD 'x'`)).rejects.toMatchObject({
      code: '42501',
    });
    // Without the database's own login, nobody new connects: CONNECT is not PUBLIC's.
    await queryAs(root, 'postgres', `CREATE ROLE bystander LOGIN PASSWORD '${'b'.repeat(24)}'`);
    await expect(
      queryAs({ username: 'bystander', password: 'b'.repeat(24) }, secureDb, 'SELECT 1'),
    ).rejects.toMatchObject({ code: '42501' });
    await ServerRoles.dropTenantDatabase(adminUrl(), secureDb);
    await ServerRoles.dropTenantDatabase(adminUrl(), edgeDb);
  });

  it('placement login - the store drops its own database with the login (as a tenant deletion does); the provisioning login then drops the login, idempotently', async () => {
    const database = tenantDatabase('secure');
    const login = loginOf(database);
    await ServerRoles.ensureTenantDatabase(adminUrl(), database, login);
    await expect(DatabaseAdmin.dropDatabase(urlAs(login), database)).resolves.toBe(true);
    expect(await queryAs(root, 'postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [database])).toEqual([]);
    await expect(ServerRoles.dropTenantDatabase(adminUrl(), database)).resolves.toBe(true);
    await expect(ServerRoles.dropTenantDatabase(adminUrl(), database)).resolves.toBe(false);
    expect(await queryAs(root, 'postgres', 'SELECT 1 FROM pg_roles WHERE rolname = $1', [login.username])).toEqual([]);
  });

  it('placement login - two provisionings of one placement at once (replicas retrying a step): one creates it, both succeed, and it still works after a server restart', async () => {
    const database = tenantDatabase('edge');
    const login = loginOf(database);
    const created = await Promise.all([
      ServerRoles.ensureTenantDatabase(adminUrl(), database, login),
      ServerRoles.ensureTenantDatabase(adminUrl(), database, login),
    ]);
    expect(created.filter(Boolean)).toHaveLength(1);
    await queryAs(login, database, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1)');
    server.stop(); // immediate: a crash, as far as clients can tell
    await server.start();
    await expect(ServerRoles.ensureTenantDatabase(adminUrl(), database, login)).resolves.toBe(false);
    expect(await queryAs(login, database, 'SELECT id FROM t')).toEqual([{ id: 1 }]);
    await expect(ServerRoles.dropTenantDatabase(adminUrl(), database)).resolves.toBe(true);
  }, 60_000);

  it('placement login - a database the provisioning login made before placements had logins is adopted in place: its login owns everything in it, the data stays, the provisioning login keeps its other databases; again, nothing changes', async () => {
    // Two placements as earlier versions made them: database and objects owned by the provisioning login.
    const [database, neighbour] = [tenantDatabase('secure'), tenantDatabase('secure')];
    for (const db of [database, neighbour]) await DatabaseAdmin.ensureDatabase(adminUrl(), db);
    await queryAs(
      provisioner,
      database,
      `CREATE TYPE mood AS ENUM ('calm', 'busy');
       CREATE SCHEMA side;
       CREATE TABLE customers (id serial PRIMARY KEY, mood mood NOT NULL);
       CREATE TABLE side.notes (id bigint GENERATED ALWAYS AS IDENTITY, body text);
       CREATE VIEW busy AS SELECT id FROM customers WHERE mood = 'busy';
       CREATE FUNCTION busy_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM busy';
       INSERT INTO customers (mood) VALUES ('busy'), ('calm')`,
    );
    await queryAs(provisioner, neighbour, 'CREATE TABLE other (id int)');
    const login = loginOf(database);

    // The schema, both tables (their sequences follow), the view, the function, the type: 6 objects.
    await expect(ServerRoles.adoptTenantDatabase(adminUrl(), database, login)).resolves.toBe(6);
    const owners = await queryAs(
      root,
      database,
      `SELECT DISTINCT pg_get_userbyid(owner) AS owner FROM (
         SELECT relowner AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'side')
         UNION ALL SELECT typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname IN ('public', 'side')
         UNION ALL SELECT proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('public', 'side')
         UNION ALL SELECT nspowner FROM pg_namespace WHERE nspname = 'side'
         UNION ALL SELECT datdba FROM pg_database WHERE datname = current_database()) o`,
    );
    expect(owners).toEqual([{ owner: login.username }]);
    // The store's work, as the login: reads, writes through both sequences, the view and function.
    await queryAs(
      login,
      database,
      "INSERT INTO customers (mood) VALUES ('busy'); INSERT INTO side.notes (body) VALUES ('x')",
    );
    expect(await queryAs(login, database, 'SELECT busy_count()::int AS n')).toEqual([{ n: 2 }]);
    // Nobody else connects; the neighbour (made the same way) keeps its owner, its login-less placement untouched.
    await expect(queryAs(loginOf(neighbour), database, 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
    expect(
      await queryAs(root, 'postgres', 'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [
        neighbour,
      ]),
    ).toEqual([{ owner: provisioner.username }]);
    await expect(ServerRoles.adoptTenantDatabase(adminUrl(), database, login)).resolves.toBe(0);
    for (const db of [database, neighbour]) await ServerRoles.dropTenantDatabase(adminUrl(), db);
  });

  it("placement login - adopting a database with objects the provisioning login does not own (a superuser's) fails, naming them, and changes nothing", async () => {
    const database = tenantDatabase('edge');
    await DatabaseAdmin.ensureDatabase(adminUrl(), database);
    await queryAs(provisioner, database, 'CREATE TABLE readings (id int)');
    await queryAs(root, database, 'CREATE TABLE legacy (id int)');
    const login = loginOf(database);
    await expect(ServerRoles.adoptTenantDatabase(adminUrl(), database, login)).rejects.toMatchObject({
      code: 'INVALID_PLACEMENT',
      message: expect.stringMatching(/1 objects in .* belong to another role/),
    });
    expect(
      await queryAs(
        root,
        database,
        "SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'readings'",
      ),
    ).toEqual([{ owner: provisioner.username }]);
    await ServerRoles.dropTenantDatabase(adminUrl(), database);
  });

  it('placement login - names other than `<placement database>_login` are refused before anything runs', async () => {
    const database = tenantDatabase('edge');
    await expect(
      ServerRoles.ensureTenantDatabase(adminUrl(), database, { username: 'ps_edge_runtime', password: 'x'.repeat(24) }),
    ).rejects.toMatchObject({ code: 'INVALID_PLACEMENT' });
    expect(await queryAs(root, 'postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [database])).toEqual([]);
  });
});
