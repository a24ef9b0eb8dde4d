import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { storeKeyOf } from '#polystore/catalog';
import { runtimeLogin } from '#polystore/runtime';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { uniqueToken } from '../support/ids.js';
import { mariaQuery } from '../support/mariadb.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { tcpPortsOf } from '../support/sockets.js';
import { TEST_MASTER_KEY, TestStack, type TestTenant } from '../support/stack.js';
import { runCli, type CliResult } from '../support/cli.js';

const PROVISIONER = 'polystore_e2e_provisioner';
const CATALOG = 'polystore_e2e_catalog';

/** Runs `polystore db-roles` with the administrative URLs of the test servers. */
function dbRoles(args: string[]): Promise<CliResult> {
  return runCli(['db-roles', ...args], {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    DB_ADMIN_URLS: `${TestServices.postgresUrl},${TestServices.mariadbUrl}`,
    // The MariaDB runtime logins' passwords derive from the store keys: the stack's master key.
    MASTER_KEY: TEST_MASTER_KEY,
  });
}

/** `scheme://<login>[:password]@host:port[/database]` on the server of `adminUrl`. */
function as(adminUrl: string, login: string, password?: string, database?: string): string {
  const url = new URL(adminUrl);
  url.username = login;
  url.password = password ?? '';
  url.pathname = database ? `/${database}` : '';
  return url.toString();
}

/** One statement on the connection URL `url` (its login and database); rejects with the server's error. */
async function pgQueryAt(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/**
 * No superuser at run time: the services run with the logins `polystore db-roles` creates (a
 * provisioning login per server, a catalog login owning the system database, and the stores'
 * runtime logins) through a whole tenant's life, and those logins can do nothing else.
 */
describe('database logins - the services run without a superuser (e2e)', () => {
  const systemDb = `polystore_test_logins_${uniqueToken(6)}`;
  const secrets = mkdtempSync(join(tmpdir(), 'polystore-logins-'));
  const password = `pw${uniqueToken(24)}`;
  let stack: TestStack;
  let tenant: TestTenant;
  let rolesOutput = '';

  beforeAll(async () => {
    writeFileSync(join(secrets, 'provisioner'), `${password}\n`, { mode: 0o600 });
    const roles = await dbRoles([
      '--provisioner',
      PROVISIONER,
      '--provisioner-password-file',
      join(secrets, 'provisioner'),
      '--catalog-database',
      systemDb,
      '--catalog-login',
      CATALOG,
    ]);
    rolesOutput = `${roles.stdout}${roles.stderr}`;
    expect(roles).toMatchObject({ code: 0 });
    // The PostgreSQL server trusts loopback logins: its URLs carry no password; MariaDB checks it.
    // The stores start with the gateway, on a catalog with no table yet: they wait until the
    // gateway (the catalog login) has migrated it, then log in as their own catalog logins.
    // The stores are given their own logins only (they read no server URL: the test harness
    // would otherwise pass its superuser defaults).
    const ownCatalogLogin = (store: string) => ({
      SYSTEM_DB_URL: as(TestServices.postgresUrl, `ps_${store}_catalog`, undefined, systemDb),
      SECURE_SERVER_URL: as(TestServices.postgresUrl, 'ps_secure_runtime'),
      EDGE_SERVER_URL: as(TestServices.postgresUrl, 'ps_edge_runtime'),
      RELIABLE_SERVER_URL: as(TestServices.mariadbUrl, 'ps_reliable_runtime'),
    });
    // New tenants' placements (the gateway's choice): the PostgreSQL stores' schemas on their
    // runtime logins (no provisioning login: db-roles' functions make the schemas and roles), the
    // reliable store's databases on MariaDB's provisioning login.
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      parallelStart: true,
      env: {
        SYSTEM_DB_URL: as(TestServices.postgresUrl, CATALOG, undefined, systemDb),
      },
      appEnv: {
        gateway: {
          SECURE_SERVER_URL: as(TestServices.postgresUrl, 'ps_secure_runtime'),
          EDGE_SERVER_URL: as(TestServices.postgresUrl, 'ps_edge_runtime'),
          RELIABLE_SERVER_URL: as(TestServices.mariadbUrl, PROVISIONER, password),
        },
        // Checkpoints the audit chain at once, so the test sees its catalog login write one.
        'secure-store': {
          ...ownCatalogLogin('secure'),
          AUDIT_CHECKPOINT_EVERY: '1',
          AUDIT_CHECKPOINT_INTERVAL_MS: '200',
        },
        'reliable-store': ownCatalogLogin('reliable'),
        'edge-store': ownCatalogLogin('edge'),
      },
    });
    tenant = await stack.createTenant('logins');
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
    rmSync(secrets, { recursive: true, force: true });
  });

  const call = (method: string, path: string, body?: unknown, t = tenant) =>
    stack.request({ method, path, body, tenant: t.slug, apiKey: t.apiKey });
  /** The login the catalog records for the tenant's placement of `store`. */
  const recordedLogin = async (slug: string, store: string) =>
    new URL(
      (
        await pgQuery<{ server_url: string }>(
          `SELECT p.server_url FROM placements p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = $1 AND p.store = $2`,
          [slug, store],
          systemDb,
        )
      )[0]!.server_url,
    ).username;
  /** The logins of the sessions on `database` (the stores' pools), once there is one. */
  const sessionLogins = (database: string) =>
    eventually(
      async () => {
        const rows = await pgQuery<{ usename: string }>(
          // Not the test's own sessions (its queries run as root).
          `SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = $1 AND usename NOT IN ('root', 'postgres')`,
          [database],
        );
        return rows.length > 0 ? rows.map((r) => r.usename).sort() : null;
      },
      { what: `a session on ${database}` },
    );

  it('database logins - db-roles prints the URLs to use, never the password', () => {
    expect(rolesOutput).toContain(`provisioning login: ${as(TestServices.postgresUrl, PROVISIONER)}`);
    expect(rolesOutput).toContain(`provisioning login: ${as(TestServices.mariadbUrl, PROVISIONER)}`);
    expect(rolesOutput).toContain(`catalog login: ${as(TestServices.postgresUrl, CATALOG, undefined, systemDb)}`);
    expect(rolesOutput).toContain(
      `runtime login: ${as(TestServices.mariadbUrl, 'ps_reliable_runtime')} (password from the store key)`,
    );
    for (const store of ['secure', 'reliable', 'edge'])
      expect(rolesOutput).toContain(
        `store catalog login: ${as(TestServices.postgresUrl, `ps_${store}_catalog`, undefined, systemDb)} (password from the store key)`,
      );
    for (const store of ['secure', 'edge'])
      expect(rolesOutput).toContain(
        `runtime login: ${as(TestServices.postgresUrl, `ps_${store}_runtime`)} (password from the store key; as ${store.toUpperCase()}_SERVER_URL: schema placements without a provisioning login)`,
      );
    expect(rolesOutput).not.toContain(password);
  });

  it('database logins - customers and a device registration across the three stores work', async () => {
    const customer = await call('POST', '/v1/customers', { name: 'Ada Logins', email: 'ada.logins@example.com' });
    expect(customer.status).toBe(201);
    const device = await call('POST', '/v1/devices', { name: `meter-${uniqueToken(6)}`, model: 'EM-340' });
    expect(device.status).toBe(201);
    const found = await call('GET', `/v1/customers/${(customer.body as { id: string }).id}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ name: 'Ada Logins' });
    // The tenant's data sits where the provisioning login put it, owned by the tenant's own role.
    const secure = await stack.placement(tenant.slug, 'secure');
    const owners = await pgQuery<{ owner: string }>(
      `SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = $1`,
      [secure.schema],
      secure.database,
    );
    expect(owners).toEqual([{ owner: secure.schema }]);
    // The secure store signs its audit checkpoint into the catalog with its own catalog login.
    const checkpoint = async () =>
      (
        await pgQuery<{ seq: string }>(
          `SELECT c.seq::text AS seq FROM audit_checkpoints c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = $1`,
          [tenant.slug],
          systemDb,
        )
      ).length === 1;
    await eventually(checkpoint, { timeoutMs: 15_000, what: "the tenant's audit checkpoint" });
    const verified = await call('GET', '/v1/audit/verify');
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, checkpoint: { status: 'verified' } });
  });

  it("database logins - no service's session on PostgreSQL or MariaDB is a superuser's (the test can fail)", async () => {
    const sessions = await pgQuery<{ usename: string; rolsuper: boolean; application_name: string }>(
      `SELECT DISTINCT a.usename, r.rolsuper, split_part(a.application_name, ':', 1) AS application_name
         FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
        WHERE a.application_name LIKE $1`,
      [`%:${stack.prefix}-%`],
    );
    const logins = new Set(sessions.map((s) => s.usename));
    // The gateway holds the catalog login, each store its own catalog login; the stores' queries
    // run as their runtime logins.
    expect(logins).toEqual(
      new Set([
        CATALOG,
        'ps_secure_catalog',
        'ps_reliable_catalog',
        'ps_edge_catalog',
        'ps_secure_runtime',
        'ps_edge_runtime',
      ]),
    );
    const catalogLoginsOf = (app: string) =>
      sessions.filter((s) => s.application_name === `polystore-${app}` && s.usename.endsWith('_catalog'));
    expect(catalogLoginsOf('gateway').map((s) => s.usename)).toEqual([CATALOG]);
    expect(catalogLoginsOf('edge-store').map((s) => s.usename)).toEqual(['ps_edge_catalog']);
    expect(sessions.filter((s) => s.rolsuper)).toEqual([]);
    // This stack's sessions only: other suites' stacks share the server (some of them as root).
    const ports = tcpPortsOf([...stack.apps.values()].map((app) => app.child.pid!));
    const mariadb = (
      await mariaQuery<{ user: string; host: string }>(
        `SELECT DISTINCT USER AS user, HOST AS host FROM information_schema.PROCESSLIST WHERE DB LIKE 'ps\\_reliable\\_%' OR DB = 'polystore_landing'`,
      )
    ).filter((row) => ports.has(Number(row.host.split(':').pop())));
    // The reliable store's pool logs in as its runtime login (its migrations as the provisioning one).
    expect(mariadb.map((row) => row.user)).toContain('ps_reliable_runtime');
    expect(mariadb.map((row) => row.user)).not.toContain('root');
    // No app was given an administrative login, and no store the provisioning login.
    for (const [name, app] of stack.apps) {
      const environment = readFileSync(`/proc/${app.child.pid}/environ`, 'utf8');
      expect(environment).not.toMatch(/\/\/root@/);
      if (name !== 'gateway') expect(environment).not.toContain(PROVISIONER);
    }
  });

  it('database logins - db-roles refuses a password it cannot use, naming the option and not the password, and names a password file it cannot read', async () => {
    const bad = join(secrets, 'bad');
    writeFileSync(bad, "short'; DROP ROLE x; --\n", { mode: 0o600 });
    const refused = await dbRoles(['--provisioner', PROVISIONER, '--provisioner-password-file', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--provisioner-password-file: the password must be 16-128 characters');
    expect(`${refused.stdout}${refused.stderr}`).not.toContain('DROP ROLE');
    const missing = await dbRoles([
      '--catalog-password-file',
      join(secrets, 'does-not-exist'),
      '--catalog-database',
      systemDb,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--catalog-password-file: cannot read');
  });

  it('database logins - the provisioning and catalog logins have no rights beyond theirs', async () => {
    const roles = await pgQuery<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean }>(
      'SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname',
      [[CATALOG, PROVISIONER]],
    );
    expect(roles).toEqual([
      { rolname: CATALOG, rolsuper: false, rolcreatedb: false, rolcreaterole: false },
      { rolname: PROVISIONER, rolsuper: false, rolcreatedb: true, rolcreaterole: true },
    ]);
    const provisioner = as(TestServices.mariadbUrl, PROVISIONER, password);
    await expect(mariaQuery('SELECT User FROM mysql.user', [], undefined, provisioner)).rejects.toMatchObject({
      code: 'ER_TABLEACCESS_DENIED_ERROR',
    });
    await expect(mariaQuery('CREATE DATABASE not_a_placement', [], undefined, provisioner)).rejects.toMatchObject({
      code: 'ER_DBACCESS_DENIED_ERROR',
    });
    await expect(
      mariaQuery('SELECT 1', [], undefined, as(TestServices.mariadbUrl, PROVISIONER, `${password}x`)),
    ).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
    // No account management: with CREATE USER (held before) it could drop any account or set its
    // password, an administrator's included, then log in as it. A login that had it loses it.
    await mariaQuery(`GRANT CREATE USER ON *.* TO '${PROVISIONER}'@'%'`);
    expect(
      await dbRoles(['--provisioner', PROVISIONER, '--provisioner-password-file', join(secrets, 'provisioner')]),
    ).toMatchObject({ code: 0 });
    const grants = await mariaQuery<Record<string, string>>('SHOW GRANTS', [], undefined, provisioner);
    expect(grants.map((row) => Object.values(row)[0]).join('\n')).not.toContain('CREATE USER');
    const other = `ps_logins_other_${uniqueToken(6)}`;
    await mariaQuery(`CREATE USER '${other}'@'%' IDENTIFIED BY '${password}'`);
    try {
      for (const takeover of [
        `ALTER USER '${other}'@'%' IDENTIFIED BY 'taken-over-password-1'`,
        `DROP USER '${other}'@'%'`,
      ])
        await expect(mariaQuery(takeover, [], undefined, provisioner)).rejects.toMatchObject({
          code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
        });
      await expect(
        mariaQuery('SELECT 1 AS ok', [], undefined, as(TestServices.mariadbUrl, other, password)),
      ).resolves.toEqual([{ ok: 1 }]);
    } finally {
      await mariaQuery(`DROP USER IF EXISTS '${other}'@'%'`);
    }
    // The reliable store's runtime login reaches its own databases only.
    const login = runtimeLogin('reliable', storeKeyOf(Buffer.from(TEST_MASTER_KEY, 'base64'), 'reliable'));
    const runtime = as(TestServices.mariadbUrl, login.username, login.password);
    const reliable = await stack.placement(tenant.slug, 'reliable');
    await expect(mariaQuery('SELECT COUNT(*) AS n FROM devices', [], reliable.database, runtime)).resolves.toHaveLength(
      1,
    );
    await expect(mariaQuery('SELECT User FROM mysql.user', [], undefined, runtime)).rejects.toMatchObject({
      code: 'ER_TABLEACCESS_DENIED_ERROR',
    });
    await expect(mariaQuery('CREATE DATABASE ps_secure_intruder', [], undefined, runtime)).rejects.toMatchObject({
      code: 'ER_DBACCESS_DENIED_ERROR',
    });
  });

  it("database logins - the PostgreSQL stores provision on their runtime logins, and the edge store's cannot read the secure store's tables (the test can fail)", async () => {
    const secure = await stack.placement(tenant.slug, 'secure');
    const edge = await stack.placement(tenant.slug, 'edge');
    expect([secure.kind, edge.kind]).toEqual(['schema', 'schema']);
    const servers = await pgQuery<{ store: string; server_url: string }>(
      `SELECT p.store, p.server_url FROM placements p JOIN tenants t ON t.id = p.tenant_id
        WHERE t.slug = $1 AND p.store <> 'reliable' ORDER BY p.store`,
      [tenant.slug],
      systemDb,
    );
    expect(servers.map((p) => [p.store, new URL(p.server_url).username])).toEqual([
      ['edge', 'ps_edge_runtime'],
      ['secure', 'ps_secure_runtime'],
    ]);
    // The edge store's login, on the secure store's shared database: not the tenant's role, no table.
    const edgeLogin = as(TestServices.postgresUrl, 'ps_edge_runtime', undefined, secure.database);
    for (const sql of [
      `SET ROLE "${secure.schema}"`,
      `SELECT count(*) FROM "${secure.schema}".customers`,
      `SELECT polystore_admin.drop_tenant_schema('${secure.schema}')`,
      'CREATE ROLE intruder',
    ])
      await expect(pgQueryAt(edgeLogin, sql)).rejects.toMatchObject({ code: '42501' });
  });

  it("database logins - a runtime login's server takes schema placements only; its placements move through PROVISIONER_URLS and keep the runtime login", async () => {
    const slug = `logins-db-${uniqueToken(4)}`;
    const refused = await stack.admin('POST', '/admin/tenants', {
      slug,
      name: 'Database kind',
      placements: [{ store: 'edge', kind: 'database' }],
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('needs a provisioning login in its server URL');
    const listed = await stack.admin<{ items: Array<{ slug: string }> }>('GET', '/admin/tenants');
    expect(listed.body.items.some((t) => t.slug === slug)).toBe(false);
    // `polystore migrate` reaches those placements as the runtime login, bound to the tenant.
    const cliEnv = { ...stack.cliEnv(), MASTER_KEY: TEST_MASTER_KEY };
    const migrated = await runCli(['migrate', '--store', 'all', '--tenants', tenant.slug], cliEnv);
    expect(migrated).toMatchObject({ code: 0 });
    expect(migrated.stdout).toContain('1 ok, 0 failed');

    // A tenant of its own to move: its edge schema holds its device's credential.
    const moving = await stack.createTenant('logins-mv');
    const device = await call('POST', '/v1/devices', { name: 'meter-mv', model: 'EM-340' }, moving);
    expect(device.status).toBe(201);
    const credentials = async () =>
      (
        await stack.tenantSql<{ n: number }>(moving.slug, 'edge', 'SELECT count(*)::int AS n FROM device_credentials')
      )[0]!.n;
    expect(await credentials()).toBe(1);
    const before = await stack.placement(moving.slug, 'edge');
    const provisioning = as(TestServices.postgresUrl, PROVISIONER);
    const runtimeUrl = as(TestServices.postgresUrl, 'ps_edge_runtime');
    const move = (to: string, kind: string, env: Record<string, string>) =>
      runCli(['tenants', 'move', moving.slug, '--store', 'edge', '--to', to, '--kind', kind, '--drop-source'], env);
    // Without the provisioning login of that server, refused before anything is touched.
    const without = await move(provisioning, 'database', cliEnv);
    expect(without.code).not.toBe(0);
    expect(`${without.stdout}${without.stderr}`).toContain(
      "moving is not supported for a source server URL with a store's runtime login (ps_edge_runtime) without the provisioning login of postgres://127.0.0.1:5432 in PROVISIONER_URLS",
    );
    expect((await stack.placement(moving.slug, 'edge')).version).toBe(before.version);
    // A database of its own cannot sit on a runtime login: refused up front, not after the copy.
    const onRuntime = await move(runtimeUrl, 'database', { ...cliEnv, PROVISIONER_URLS: provisioning });
    expect(`${onRuntime.stdout}${onRuntime.stderr}`).toContain(
      "moving is not supported for a database placement on a store's runtime login (ps_edge_runtime)",
    );
    expect((await stack.placement(moving.slug, 'edge')).version).toBe(before.version);
    // With it: out to a database of its own (the provisioning login's), and back into a schema on
    // the runtime login, each source dropped; the credential comes along.
    const withProvisioner = { ...cliEnv, PROVISIONER_URLS: provisioning };
    expect(await move(provisioning, 'database', withProvisioner)).toMatchObject({ code: 0 });
    const asDatabase = await stack.placement(moving.slug, 'edge');
    expect(asDatabase).toMatchObject({ kind: 'database' });
    expect(await credentials()).toBe(1);
    // The database of its own got a login of its own, which owns what the move created there, and
    // the edge store reaches it with that login only (not the provisioning login it moved with).
    const ownLogin = `${asDatabase.database}_login`;
    expect(await recordedLogin(moving.slug, 'edge')).toBe(ownLogin);
    expect(
      await pgQuery<{ owner: string }>(
        `SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace`,
        [],
        asDatabase.database,
      ),
    ).toEqual([{ owner: ownLogin }]);
    // A reading makes the edge store open the moved placement.
    const token = (device.body as { token: string }).token;
    const ingested = await httpRequest({
      port: stack.app('edge-store').port,
      method: 'POST',
      path: '/ingest',
      headers: { authorization: `Bearer ${token}` },
      body: [{ seq: 1, ts: new Date().toISOString(), metrics: { kwh: 1.5 } }],
    });
    expect(ingested.status).toBe(202);
    expect(await sessionLogins(asDatabase.database)).toEqual([ownLogin]);
    expect(await move(runtimeUrl, 'schema', withProvisioner)).toMatchObject({ code: 0 });
    const after = await stack.placement(moving.slug, 'edge');
    expect(after).toMatchObject({ kind: 'schema', version: before.version + 2 });
    expect(await credentials()).toBe(1);
    const recorded = await pgQuery<{ server_url: string }>(
      `SELECT p.server_url FROM placements p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = $1 AND p.store = 'edge'`,
      [moving.slug],
      systemDb,
    );
    expect(new URL(recorded[0]!.server_url).username).toBe('ps_edge_runtime');
    expect(await pgQuery('SELECT 1 FROM pg_database WHERE datname = $1', [after.schema])).toEqual([]);
    expect(await pgQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [ownLogin])).toEqual([]);
    // The store still serves it, now through the runtime login's placement.
    const read = await call('GET', `/v1/devices/${(device.body as { id: string }).id}`, undefined, moving);
    expect(read.status).toBe(200);
  });

  it("database logins - a PostgreSQL database placement (made with PROVISIONER_URLS' login) gets a login of its own: the edge store holds no provisioning password for it, that login reaches no other tenant's data, and it goes with the tenant (the test can fail)", async () => {
    const slug = `e2e-own-${uniqueToken(6)}`;
    // Asked for without a server: the edge store's default server names its runtime login, so the
    // gateway makes it with that server's provisioning login, from PROVISIONER_URLS.
    await stack.app('gateway').stop();
    await stack.startApp('gateway', { PROVISIONER_URLS: as(TestServices.postgresUrl, PROVISIONER, password) });
    const created = await stack.admin<{ apiKey: string }>('POST', '/admin/tenants', {
      slug,
      name: 'Own login',
      placements: [{ store: 'edge', kind: 'database' }],
    });
    expect(created.status).toBe(201);
    // The saga log keeps that password sealed only.
    const inputs = await pgQuery<{ input: string }>(
      `SELECT input::text AS input FROM sagas WHERE name = 'tenant-provisioning' AND tenant = $1`,
      [slug],
      systemDb,
    );
    expect(inputs).toHaveLength(1);
    expect(inputs[0]!.input).not.toContain(password);
    const own: TestTenant = { slug, apiKey: created.body.apiKey };
    const device = await call('POST', '/v1/devices', { name: 'meter-own', model: 'EM-340' }, own);
    expect(device.status).toBe(201);
    const edge = await stack.placement(slug, 'edge');
    expect(edge.kind).toBe('database');
    const login = `${edge.database}_login`;
    // The catalog gives the edge store that login (its password sealed with the edge store's key);
    // the provisioning login is kept where no store's catalog login may read.
    expect(await recordedLogin(slug, 'edge')).toBe(login);
    const kept = await pgQuery<{ server_url: string }>(
      `SELECT pp.server_url FROM placement_provisioners pp JOIN tenants t ON t.id = pp.tenant_id WHERE t.slug = $1`,
      [slug],
      systemDb,
    );
    expect(kept.map((k) => new URL(k.server_url).username)).toEqual([PROVISIONER]);
    await expect(
      pgQueryAt(
        as(TestServices.postgresUrl, 'ps_edge_catalog', undefined, systemDb),
        'SELECT * FROM placement_provisioners',
      ),
    ).rejects.toMatchObject({ code: '42501' });
    expect(await sessionLogins(edge.database)).toEqual([login]);
    // That login, on the secure store's shared database: not the tenant's role, no table, no role.
    const secure = await stack.placement(tenant.slug, 'secure');
    const asLogin = as(TestServices.postgresUrl, login, undefined, secure.database);
    for (const sql of [
      `SET ROLE "${secure.schema}"`,
      `SELECT count(*) FROM "${secure.schema}".customers`,
      `SET ROLE "${PROVISIONER}"`,
      'CREATE ROLE intruder',
      'CREATE DATABASE intruder',
    ])
      await expect(pgQueryAt(asLogin, sql)).rejects.toMatchObject({ code: '42501' });

    // The placement as earlier versions left it: recorded with the provisioning login (the
    // server trusts loopback: no password), its database and tables the provisioning login's, no
    // login of its own. The edge store, restarted (new pid), serves it as the provisioning login.
    await stack.app('edge-store').stop('SIGKILL');
    await pgQuery(
      `UPDATE placements p SET server_url = $2, server_secret = NULL, version = p.version + 1
         FROM tenants t WHERE t.id = p.tenant_id AND t.slug = $1 AND p.store = 'edge'`,
      [slug, as(TestServices.postgresUrl, PROVISIONER)],
      systemDb,
    );
    await pgQuery(
      'DELETE FROM placement_provisioners pp USING tenants t WHERE t.id = pp.tenant_id AND t.slug = $1',
      [slug],
      systemDb,
    );
    await pgQuery(`REASSIGN OWNED BY "${login}" TO "${PROVISIONER}"`, [], edge.database);
    await pgQuery(`DROP ROLE "${login}"`);
    const edgeStore = await stack.startApp('edge-store');
    const window = `from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`;
    /** How many readings of the device the gateway returns (the edge store reads them). */
    const points = async () => {
      const page = await call(
        'GET',
        `/v1/devices/${(device.body as { id: string }).id}/telemetry?${window}`,
        undefined,
        own,
      );
      return page.status === 200 ? (page.body.points as unknown[]).length : -page.status;
    };
    const reading = () =>
      httpRequest({
        port: edgeStore.port,
        method: 'POST',
        path: '/ingest',
        headers: { authorization: `Bearer ${(device.body as { token: string }).token}` },
        body: [{ seq: Date.now(), ts: new Date().toISOString(), metrics: { kwh: 2 } }],
      });
    expect((await reading()).status).toBe(202);
    await eventually(async () => (await points()) === 1, { what: 'the reading stored as the provisioning login' });
    expect(await sessionLogins(edge.database)).toEqual([PROVISIONER]);
    // `polystore tenants adopt-logins` gives it its login in place, while the edge store runs.
    const cliEnv = { ...stack.cliEnv(), MASTER_KEY: TEST_MASTER_KEY };
    const adopted = await runCli(['tenants', 'adopt-logins', slug, '--json'], cliEnv);
    expect(adopted).toMatchObject({ code: 0 });
    expect(JSON.parse(adopted.stdout)).toMatchObject({ adopted: [{ slug, store: 'edge' }], failed: [] });
    expect(await recordedLogin(slug, 'edge')).toBe(login);
    expect(
      await pgQuery<{ owner: string }>(
        `SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace`,
        [],
        edge.database,
      ),
    ).toEqual([{ owner: login }]);
    // The store reopens it with the login (the catalog's change event): new readings land, old ones stay.
    expect((await reading()).status).toBe(202);
    await eventually(
      async () =>
        (
          await pgQuery<{ usename: string }>(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = $1 AND usename NOT IN ('root', 'postgres')",
            [edge.database],
          )
        ).some((row) => row.usename === login),
      { what: 'an edge store session as the adopted login' },
    );
    await eventually(async () => (await points()) === 2, { what: 'both readings, the new one stored as the login' });
    expect((await runCli(['tenants', 'adopt-logins', slug, '--json'], cliEnv)).stdout).toContain('"adopted": []');

    // The tenant goes (no grace period here): its database, its login and what was kept for it.
    const deleted = await stack.admin('DELETE', `/admin/tenants/${slug}`);
    expect([200, 202, 204]).toContain(deleted.status);
    await eventually(
      async () =>
        (await pgQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [login])).length === 0 &&
        (await pgQuery('SELECT 1 FROM pg_database WHERE datname = $1', [edge.database])).length === 0,
      { timeoutMs: 30_000, what: "the placement's database and login dropped" },
    );
  });

  it('database logins - deleting the tenant drops its schemas, roles and database without a superuser', async () => {
    const secure = await stack.placement(tenant.slug, 'secure');
    const edge = await stack.placement(tenant.slug, 'edge');
    const reliable = await stack.placement(tenant.slug, 'reliable');
    const deleted = await stack.admin('DELETE', `/admin/tenants/${tenant.slug}`);
    expect([200, 202, 204]).toContain(deleted.status);
    const gone = async () =>
      (await pgQuery('SELECT 1 FROM pg_namespace WHERE nspname = $1', [secure.schema], secure.database)).length === 0 &&
      (await pgQuery('SELECT 1 FROM pg_roles WHERE rolname = ANY($1)', [[secure.schema, edge.schema]])).length === 0 &&
      (await mariaQuery('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [reliable.database]))
        .length === 0;
    await eventually(gone, { timeoutMs: 30_000, what: "the tenant's schema, role and database dropped" });
    expect(await gone()).toBe(true);
  });
});
