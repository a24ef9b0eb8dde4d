import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/eventually.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { dropTenantDataByHand } from '../support/tenant-data.js';

describe('fault isolation - a store or a tenant database that fails takes down nothing else (e2e)', () => {
  let stack: TestStack;
  let tenant: TestTenant;
  let customerId: string;

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['secure-store', 'gateway'],
      env: { SECURE_DB_CIRCUIT_FAILURES: '2', SECURE_DB_CIRCUIT_HALF_OPEN_MS: '500' },
    });
    tenant = await stack.createTenant();
    const created = await stack.request({
      method: 'POST',
      path: '/v1/customers',
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
      body: { name: 'Kept', email: 'kept@example.com' },
    });
    customerId = created.body.id;
  });

  afterAll(async () => {
    if (!stack?.app('secure-store').isRunning) await stack?.startApp('secure-store');
    await stack?.close();
  });

  it('fault isolation - with the secure store stopped: ready names it, secure routes 503 fast, the rest serves, and it all recovers by itself', async () => {
    await stack.app('secure-store').stop('SIGKILL');

    const ready = await stack.internal({ path: '/health/ready' });
    expect(ready.status).toBe(503);
    expect(ready.body.error).toHaveProperty('secure-store');
    expect(ready.body.info).toHaveProperty('catalog');
    expect(ready.body.info).toHaveProperty('nats');

    const started = Date.now();
    const secure = await stack.request({
      path: `/v1/customers/${customerId}`,
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
    });
    expect(secure.status).toBe(503);
    expect(secure.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(secure.headers['retry-after']).toBe('1');
    expect(Date.now() - started).toBeLessThan(5_000);

    expect((await stack.request({ path: '/health/live' })).status).toBe(200);
    expect((await stack.admin('GET', '/admin/tenants')).status).toBe(200);
    expect((await stack.internal({ path: '/metrics' })).status).toBe(200);
    expect((await stack.internal({ path: '/docs' })).status).toBe(200);

    await stack.startApp('secure-store');
    await eventually(async () => (await stack.internal({ path: '/health/ready' })).status === 200, {
      what: 'ready again',
    });
    const back = await stack.request({
      path: `/v1/customers/${customerId}`,
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
    });
    expect(back.status).toBe(200);
    expect(back.body.email).toBe('kept@example.com');
    expect(stack.app('gateway').isRunning).toBe(true);
  });

  it('fault isolation - a tenant whose database was dropped by hand gets 503 with a code; other tenants are unaffected', async () => {
    const victim = await stack.createTenant('victim');
    const bystander = await stack.createTenant('bystander');
    const read = (t: TestTenant) =>
      stack.request({
        method: 'POST',
        path: '/v1/customers/search',
        tenant: t.slug,
        apiKey: t.apiKey,
        body: { email: 'x@example.com' },
      });
    expect((await read(victim)).status).toBe(200);

    // Only the victim's data goes: its schema, in the shared database where the bystander's
    // (and the first tenant's) schemas sit next to it and must keep serving.
    const placement = await stack.placement(victim.slug, 'secure');
    expect(placement.kind).toBe('schema');
    for (const other of [bystander, tenant])
      expect(await stack.placement(other.slug, 'secure')).toMatchObject({
        kind: 'schema',
        database: placement.database,
      });
    await dropTenantDataByHand(placement);
    for (let i = 0; i < 3; i++) {
      const res = await read(victim);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('DATABASE_UNAVAILABLE');
      expect(res.text).not.toMatch(/ps_secure|polystore_|3D000|3F000|42P01|does not exist/);
    }
    // The circuit is open now: the answer comes without touching the server.
    const started = Date.now();
    expect((await read(victim)).body.code).toBe('DATABASE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(200);

    expect((await read(bystander)).status).toBe(200);
    expect(
      (await stack.request({ path: `/v1/customers/${customerId}`, tenant: tenant.slug, apiKey: tenant.apiKey })).status,
    ).toBe(200);
    // Cleanup of a half-dead tenant still works (drop is idempotent).
    expect((await stack.admin('DELETE', `/admin/tenants/${victim.slug}`)).status).toBe(204);
    stack.forget(victim.slug);
  });
});
