import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/eventually.js';
import { mariaQuery } from '../support/mariadb.js';
import { pgQuery } from '../support/pg.js';
import { TestStack, type TestTenant } from '../support/stack.js';

/**
 * Placements through the whole stack: new tenants get a schema of their own in each PostgreSQL
 * store's shared database and a database of their own on MariaDB, named from their immutable id;
 * an operator may choose another kind per store; every store serves them all from one pool per
 * server, across restarts.
 */
describe('placements - schema, database and dedicated through the gateway (e2e, real servers)', () => {
  let stack: TestStack;
  let tenant: TestTenant;

  const createCustomer = (t: TestTenant, email: string) =>
    stack.request({
      method: 'POST',
      path: '/v1/customers',
      tenant: t.slug,
      apiKey: t.apiKey,
      body: { name: 'Ada Lovelace', email },
    });

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      parallelStart: true,
      env: { DEVICE_BROKER: 'off' },
    });
    tenant = await stack.createTenant('default');
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('placements - by default a schema in each PostgreSQL store and a database on MariaDB, named from the tenant id, never the slug', async () => {
    const listed = await stack.admin<{ items: Array<{ slug: string; placements: any[] }> }>('GET', '/admin/tenants');
    const placements = listed.body.items.find((t) => t.slug === tenant.slug)!.placements;
    const secure = placements.find((p) => p.store === 'secure');
    const edge = placements.find((p) => p.store === 'edge');
    const reliable = placements.find((p) => p.store === 'reliable');
    expect(secure).toMatchObject({ kind: 'schema', database: 'polystore_secure', server: 'postgres://127.0.0.1:5432' });
    expect(edge).toMatchObject({ kind: 'schema', database: 'polystore_edge' });
    expect(reliable).toMatchObject({ kind: 'database', server: 'mysql://127.0.0.1:3306' });
    expect(reliable.schema).toBeUndefined();
    // Every name is the tenant's immutable id (from the catalog), nothing of its slug.
    const [{ id }] = (await pgQuery<{ id: string }>(
      'SELECT id::text AS id FROM tenants WHERE slug = $1',
      [tenant.slug],
      'polystore_test_system',
    )) as [{ id: string }];
    const hex = id.replace(/-/g, '');
    expect([secure.schema, edge.schema, reliable.database]).toEqual([
      `ps_secure_${hex}`,
      `ps_edge_${hex}`,
      `ps_reliable_${hex}`,
    ]);
    // The schema is owned by the tenant's own role, and the tables are in it.
    const owner = await pgQuery<{ owner: string }>(
      'SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = $1',
      [secure.schema],
      'polystore_secure',
    );
    expect(owner).toEqual([{ owner: secure.schema }]);
    const tables = await pgQuery<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename',
      [secure.schema],
      'polystore_secure',
    );
    expect(tables.map((t) => t.tablename)).toEqual(expect.arrayContaining(['customers', 'secure_migrations']));
    const mariaTables = await mariaQuery<{ name: string }>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?',
      [reliable.database],
    );
    expect(mariaTables.map((t) => t.name)).toEqual(expect.arrayContaining(['devices', 'reliable_migrations']));
  });

  it('placements - a customer written through the gateway lands in the tenant schema, encrypted', async () => {
    const created = await createCustomer(tenant, 'ada@placements.example');
    expect(created.status).toBe(201);
    const rows = await stack.tenantSql<{ id: string }>(
      tenant.slug,
      'secure',
      'SELECT id FROM customers WHERE id = $1',
      [created.body.id],
    );
    expect(rows).toEqual([{ id: created.body.id }]);
    const read = await stack.request({
      path: `/v1/customers/${created.body.id}`,
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
    });
    expect(read.status).toBe(200);
    expect(read.body.email).toBe('ada@placements.example');
  });

  it('placements - an operator chooses the kind per store: a database of its own for the secure store', async () => {
    const own = await stack.createTenant('owndb', [{ store: 'secure', kind: 'database' }]);
    const placement = await stack.placement(own.slug, 'secure');
    expect(placement).toMatchObject({ kind: 'database' });
    expect(placement.database).toMatch(/^ps_secure_[0-9a-f]{32}$/);
    expect(placement.schema).toBeUndefined();
    const created = await createCustomer(own, 'grace@owndb.example');
    expect(created.status).toBe(201);
    await expect(stack.tenantSql(own.slug, 'secure', 'SELECT count(*)::int AS n FROM customers')).resolves.toEqual([
      { n: 1 },
    ]);
    // The schema tenant is not disturbed by the other kind next to it.
    const listed = await stack.request({
      method: 'POST',
      path: '/v1/customers/search',
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
      body: { email: 'grace@owndb.example' },
    });
    expect(listed.body.items).toEqual([]);
  });

  it.each([
    [{ store: 'secure', kind: 'bogus' }, 'kind'],
    [{ store: 'nope' }, 'store'],
    [{ store: 'secure', kind: 'dedicated' }, 'server'],
    [{ store: 'reliable', kind: 'schema' }, 'schema'],
    [{ store: 'secure', kind: 'dedicated', server: 'http://example.com' }, 'server URL'],
  ])('placements - a bad placement %j is a 400 naming %s, and creates nothing', async (placement, field) => {
    const slug = `e2e-bad-${Math.random().toString(36).slice(2, 8)}`;
    const res = await stack.admin('POST', '/admin/tenants', { slug, name: 'Bad', placements: [placement] });
    expect(res.status).toBe(400);
    expect(res.text).toContain(field);
    const listed = await stack.admin<{ items: Array<{ slug: string }> }>('GET', '/admin/tenants');
    expect(listed.body.items.some((t) => t.slug === slug)).toBe(false);
  });

  it('placements - a slug deleted and created again meets none of the old data, keys or sagas', async () => {
    const first = await stack.createTenant('reuse');
    expect((await createCustomer(first, 'old@reuse.example')).status).toBe(201);
    const register = (t: TestTenant) =>
      stack.request<{ id: string; sagaId: string }>({
        method: 'POST',
        path: '/v1/devices',
        tenant: t.slug,
        apiKey: t.apiKey,
        headers: { 'idempotency-key': 'same-key-after-reuse' },
        body: { name: 'meter', model: 'm1' },
      });
    const oldDevice = await register(first);
    expect(oldDevice.status).toBe(201);
    const before = await stack.placement(first.slug, 'secure');
    const deleted = await stack.admin('DELETE', `/admin/tenants/${first.slug}`);
    expect(deleted.status).toBe(204);
    const gone = await pgQuery('SELECT 1 FROM pg_namespace WHERE nspname = $1', [before.schema], 'polystore_secure');
    expect(gone).toEqual([]);
    const role = await pgQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [before.schema]);
    expect(role).toEqual([]);
    const again = await stack.admin<{ apiKey: string }>('POST', '/admin/tenants', { slug: first.slug, name: 'Again' });
    expect(again.status).toBe(201);
    const after = await stack.placement(first.slug, 'secure');
    expect(after.schema).not.toBe(before.schema);
    const search = await stack.request({
      method: 'POST',
      path: '/v1/customers/search',
      tenant: first.slug,
      apiKey: again.body.apiKey,
      body: { email: 'old@reuse.example' },
    });
    expect(search.status).toBe(200);
    expect(search.body.items).toEqual([]);
    const reborn: TestTenant = { slug: first.slug, apiKey: again.body.apiKey };
    // The old key, the old saga and the old idempotency key belong to the deleted tenant.
    const oldKey = await stack.request({
      method: 'GET',
      path: '/v1/devices',
      tenant: first.slug,
      apiKey: first.apiKey,
    });
    expect(oldKey.status).toBe(401);
    const oldSaga = await stack.request({
      method: 'GET',
      path: `/v1/sagas/${oldDevice.body.sagaId}`,
      tenant: first.slug,
      apiKey: reborn.apiKey,
    });
    expect(oldSaga.status).toBe(404);
    const newDevice = await register(reborn);
    expect(newDevice.status).toBe(201);
    expect(newDevice.body.id).not.toBe(oldDevice.body.id);
    expect(newDevice.body.sagaId).not.toBe(oldDevice.body.sagaId);
    const devices = await stack.request<{ items: Array<{ id: string }> }>({
      method: 'GET',
      path: '/v1/devices',
      tenant: first.slug,
      apiKey: reborn.apiKey,
    });
    expect(devices.body.items.map((d) => d.id)).toEqual([newDevice.body.id]);
    await stack.admin('DELETE', `/admin/tenants/${first.slug}`);
    stack.forget(first.slug);
  });

  it('placements - 12 tenants created at once are served by one shared pool per store, within its connection budget', async () => {
    const created = await Promise.all(Array.from({ length: 12 }, (_, i) => stack.createTenant(`many${i}`)));
    const writes = await Promise.all(created.map((t, i) => createCustomer(t, `c${i}@many.example`)));
    expect(writes.map((w) => w.status)).toEqual(Array(12).fill(201));
    const metrics = await fetchMetrics(stack, 'secure-store');
    const pools = metrics.split('\n').filter((l) => l.startsWith('polystore_shared_pool_size{'));
    expect(pools).toHaveLength(1);
    expect(pools[0]).toContain('database="polystore_secure"');
    const budget = Number(
      /polystore_datasources_capacity\{[^}]*server="postgres:\/\/127\.0\.0\.1:5432"[^}]*\} (\d+)/.exec(metrics)![1],
    );
    const size = Number(/polystore_shared_pool_size\{[^}]*\} (\d+)/.exec(pools[0]!)![1]);
    expect(size).toBeLessThanOrEqual(budget);
    // This stack's secure store only (other suites' stores share the server and the database).
    const open = await pgQuery<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = 'polystore_secure' AND usename = 'ps_secure_runtime'",
      [`polystore-secure:${stack.prefix}-secure-store`],
    );
    expect(open[0]!.n).toBeGreaterThan(0);
    expect(open[0]!.n).toBeLessThanOrEqual(size);
  });

  it('placements - after a kill -9 of the secure store, a new process serves every tenant from its schema again', async () => {
    const before = await createCustomer(tenant, 'before@restart.example');
    expect(before.status).toBe(201);
    const oldPid = stack.app('secure-store').child.pid;
    await stack.app('secure-store').stop('SIGKILL');
    const restarted = await stack.startApp('secure-store');
    expect(restarted.child.pid).not.toBe(oldPid);
    const read = await eventually(
      async () => {
        const res = await stack.request({
          path: `/v1/customers/${before.body.id}`,
          tenant: tenant.slug,
          apiKey: tenant.apiKey,
        });
        return res.status === 200 ? res : undefined;
      },
      { what: 'the customer served by the new process', timeoutMs: 20_000 },
    );
    expect(read.body.email).toBe('before@restart.example');
  });
});

async function fetchMetrics(stack: TestStack, app: 'secure-store'): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${stack.app(app).port}/metrics`);
  return response.text();
}
