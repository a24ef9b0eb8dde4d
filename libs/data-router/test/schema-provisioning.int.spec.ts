import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SchemaAdmin, ServerRoles, type RuntimeLogin } from '#polystore/data-router';
import { pgQueryAs, type PgLogin } from '../../../test/support/pg.js';
import { PrivatePostgres } from '../../../test/support/postgres-server.js';

/** A store's runtime login as `runtimeLogin` (libs/runtime) makes it, with a random password. */
function runtimeOf(store: string): RuntimeLogin {
  return {
    username: `ps_${store}_runtime`,
    password: randomBytes(24).toString('base64url'),
    databasePrefix: `ps_${store}_`,
    batchRole: `ps_${store}_batch`,
  };
}

const tenantSchema = (store: string) => `ps_${store}_${randomBytes(16).toString('hex')}`;

/**
 * Schema placements provisioned without a provisioning login (`ServerRoles.ensureSchemaProvisioning`,
 * run by `polystore db-roles`): a store reaches its PostgreSQL server with its runtime login only,
 * and creates and drops its tenants' schemas and roles through `SECURITY DEFINER` functions that
 * accept its own tenants only. On a private PostgreSQL that checks passwords, so the logins are
 * what the test says they are.
 */
describe('data-router - schema placements through the provisioning functions (private PostgreSQL)', () => {
  const edge = runtimeOf('edge');
  const secure = runtimeOf('secure');
  let server: PrivatePostgres;
  const urlAs = (login: string) => `postgres://${login}@127.0.0.1:${server.port}`;
  /** Statements as `login` in `database`; rejects with the server's error. */
  const queryAs = (login: PgLogin, database: string, sql: string, params: unknown[] = []) =>
    pgQueryAs(server.port, login, database, sql, params);
  const root = { username: 'root' };

  beforeAll(async () => {
    server = await PrivatePostgres.create({ checkPasswords: true });
    await ServerRoles.ensureProvisioner(server.url, { username: 'polystore_provisioner', password: 'p'.repeat(24) });
    await ServerRoles.ensureSchemaProvisioning(server.url, 'polystore_provisioner', edge, 'polystore_edge');
    await ServerRoles.ensureSchemaProvisioning(server.url, 'polystore_provisioner', secure, 'polystore_secure');
  }, 60_000);

  afterAll(() => server?.destroy());

  it('provisioning functions - the runtime login creates and drops its own tenant schema, idempotently', async () => {
    const schema = tenantSchema('edge');
    const url = urlAs(edge.username);
    await expect(SchemaAdmin.ensureTenantSchema(url, 'polystore_edge', schema, edge)).resolves.toBe(true);
    await expect(SchemaAdmin.ensureTenantSchema(url, 'polystore_edge', schema, edge)).resolves.toBe(false);
    expect(
      await queryAs(
        root,
        'polystore_edge',
        'SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = $1',
        [schema],
      ),
    ).toEqual([{ owner: schema }]);
    // Bound to the tenant's role, the runtime login makes and reads its tables (as the router does).
    await queryAs(
      edge,
      'polystore_edge',
      `BEGIN; SELECT set_config('role', '${schema}', true), set_config('search_path', '${schema}', true);
       CREATE TABLE readings (id int); INSERT INTO readings VALUES (1); COMMIT`,
    );
    await expect(SchemaAdmin.dropTenantSchema(url, 'polystore_edge', schema, edge)).resolves.toBe(true);
    await expect(SchemaAdmin.dropTenantSchema(url, 'polystore_edge', schema, edge)).resolves.toBe(false);
    expect(await queryAs(root, 'postgres', 'SELECT 1 FROM pg_roles WHERE rolname = $1', [schema])).toEqual([]);
  });

  it('provisioning functions - replicas provisioning at once: each schema made once, every call answered', async () => {
    const names = Array.from({ length: 5 }, () => tenantSchema('edge'));
    const url = urlAs(edge.username);
    // Two calls per tenant, all at once, as two store replicas retrying the same step would.
    const created = await Promise.all(
      [...names, ...names].map((name) => SchemaAdmin.ensureTenantSchema(url, 'polystore_edge', name, edge)),
    );
    expect(created.filter(Boolean)).toHaveLength(names.length);
    const schemas = await queryAs(root, 'polystore_edge', 'SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)', [
      names,
    ]);
    expect(schemas).toHaveLength(names.length);
    const dropped = await Promise.all(
      [...names, ...names].map((name) => SchemaAdmin.dropTenantSchema(url, 'polystore_edge', name, edge)),
    );
    expect(dropped.filter(Boolean)).toHaveLength(names.length);
    expect(await queryAs(root, 'postgres', 'SELECT 1 FROM pg_roles WHERE rolname = ANY($1)', [names])).toEqual([]);
  });

  it("provisioning functions - a store's runtime login gets nothing of another store's tenants (the test can fail)", async () => {
    const secureTenant = tenantSchema('secure');
    await SchemaAdmin.ensureTenantSchema(urlAs(secure.username), 'polystore_secure', secureTenant, secure);
    await queryAs(
      secure,
      'polystore_secure',
      `BEGIN; SELECT set_config('role', '${secureTenant}', true); CREATE TABLE ${secureTenant}.customers (id int); COMMIT`,
    );
    // Its own function refuses another store's tenant name; the other store's function is not its to call.
    await expect(
      queryAs(edge, 'polystore_edge', 'SELECT polystore_admin.ensure_tenant_schema($1)', [secureTenant]),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      queryAs(edge, 'polystore_secure', 'SELECT polystore_admin.drop_tenant_schema($1)', [secureTenant]),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      SchemaAdmin.ensureTenantSchema(urlAs(edge.username), 'polystore_edge', `${secureTenant}; DROP ROLE x`, edge),
    ).rejects.toThrow();
    // Neither may it become the secure tenant, make roles, or read its tables.
    for (const sql of [
      `SET ROLE ${secureTenant}`,
      `GRANT ${secureTenant} TO ${edge.username}`,
      'CREATE ROLE intruder',
      `SELECT * FROM ${secureTenant}.customers`,
    ])
      await expect(queryAs(edge, 'polystore_secure', sql)).rejects.toMatchObject({ code: '42501' });
    // Nor may anyone else call the functions.
    await queryAs(root, 'postgres', `CREATE ROLE someone LOGIN PASSWORD '${'s'.repeat(20)}'`);
    await expect(
      queryAs(
        { username: 'someone', password: 's'.repeat(20) },
        'polystore_edge',
        'SELECT polystore_admin.ensure_tenant_schema($1)',
        [tenantSchema('edge')],
      ),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it('provisioning functions - a wrong password is refused, and a database without the functions names db-roles', async () => {
    const stranger = { ...edge, password: randomBytes(24).toString('base64url') };
    await expect(
      SchemaAdmin.ensureTenantSchema(urlAs(edge.username), 'polystore_edge', tenantSchema('edge'), stranger),
    ).rejects.toThrow(/refused ps_edge_runtime \(its password derives from the store key\): run `polystore db-roles`/);
    await queryAs(root, 'postgres', 'CREATE DATABASE polystore_bare');
    await expect(
      SchemaAdmin.ensureTenantSchema(urlAs(edge.username), 'polystore_bare', tenantSchema('edge'), edge),
    ).rejects.toThrow(/has no provisioning functions for ps_edge_runtime: run `polystore db-roles`/);
  });

  it('provisioning functions - across a server restart: a schema made before drops after it, a new one is made', async () => {
    const url = urlAs(edge.username);
    const before = tenantSchema('edge');
    await expect(SchemaAdmin.ensureTenantSchema(url, 'polystore_edge', before, edge)).resolves.toBe(true);
    server.stop();
    await server.start();
    const after = tenantSchema('edge');
    await expect(SchemaAdmin.ensureTenantSchema(url, 'polystore_edge', after, edge)).resolves.toBe(true);
    await expect(SchemaAdmin.dropTenantSchema(url, 'polystore_edge', before, edge)).resolves.toBe(true);
    await expect(SchemaAdmin.dropTenantSchema(url, 'polystore_edge', after, edge)).resolves.toBe(true);
  });

  it('provisioning functions - db-roles run with another provisioning login takes them over; tenants made before still drop', async () => {
    const before = tenantSchema('edge');
    await SchemaAdmin.ensureTenantSchema(urlAs(edge.username), 'polystore_edge', before, edge);
    await ServerRoles.ensureProvisioner(server.url, { username: 'other_provisioner', password: 'o'.repeat(24) });
    await ServerRoles.ensureSchemaProvisioning(server.url, 'other_provisioner', edge, 'polystore_edge');
    expect(
      await queryAs(
        root,
        'polystore_edge',
        `SELECT DISTINCT pg_get_userbyid(proowner) AS owner FROM pg_proc WHERE pronamespace = 'polystore_admin'::regnamespace`,
      ),
    ).toEqual([{ owner: 'other_provisioner' }]);
    await expect(SchemaAdmin.dropTenantSchema(urlAs(edge.username), 'polystore_edge', before, edge)).resolves.toBe(
      true,
    );
  });
});
