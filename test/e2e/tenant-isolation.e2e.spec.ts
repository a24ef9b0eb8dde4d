import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestStack, type TestTenant } from '../support/stack.js';

describe('gateway - tenant resolution and isolation (e2e, real processes)', () => {
  let stack: TestStack;
  let a: TestTenant;
  let b: TestTenant;
  let customerOfA: string;

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['secure-store', 'gateway'] });
    [a, b] = [await stack.createTenant('a'), await stack.createTenant('b')];
    const created = await stack.request({
      method: 'POST',
      path: '/v1/customers',
      tenant: a.slug,
      apiKey: a.apiKey,
      body: { name: 'Alice A', email: 'alice@a.example' },
    });
    expect(created.status).toBe(201);
    customerOfA = created.body.id;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('isolation - tenant A reads its own customer', async () => {
    const res = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: a.slug, apiKey: a.apiKey });
    expect(res.status).toBe(200);
    expect(res.body.email).toBe('alice@a.example');
  });

  it("isolation - tenant B's host and key never reach tenant A's customer (404)", async () => {
    const res = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: b.slug, apiKey: b.apiKey });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('CUSTOMER_NOT_FOUND');
  });

  it("isolation - B's key on A's host is refused with 403", async () => {
    const res = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: a.slug, apiKey: b.apiKey });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('WRONG_TENANT');
  });

  it("isolation - A's key on B's host is refused with 403", async () => {
    const res = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: b.slug, apiKey: a.apiKey });
    expect(res.status).toBe(403);
  });

  it("isolation - B's search for A's customer email finds nothing", async () => {
    const res = await stack.request({
      method: 'POST',
      path: '/v1/customers/search',
      tenant: b.slug,
      apiKey: b.apiKey,
      body: { email: 'alice@a.example' },
    });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([]);
  });

  it("isolation - B cannot delete A's customer, and A still has it", async () => {
    const res = await stack.request({
      method: 'DELETE',
      path: `/v1/customers/${customerOfA}`,
      tenant: b.slug,
      apiKey: b.apiKey,
    });
    expect(res.status).toBe(404);
    const still = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: a.slug, apiKey: a.apiKey });
    expect(still.status).toBe(200);
  });

  it('isolation - an unknown tenant is 404', async () => {
    const res = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: 'nobody-here', apiKey: a.apiKey });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('TENANT_NOT_FOUND');
  });

  it('isolation - a missing or invalid key is 401', async () => {
    const missing = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: a.slug });
    expect(missing.status).toBe(401);
    const invalid = await stack.request({
      path: `/v1/customers/${customerOfA}`,
      tenant: a.slug,
      apiKey: 'psk_' + 'x'.repeat(43),
    });
    expect(invalid.status).toBe(401);
    const garbage = await stack.request({
      path: `/v1/customers/${customerOfA}`,
      tenant: a.slug,
      apiKey: "' OR 1=1 --",
    });
    expect(garbage.status).toBe(401);
  });

  it.each([
    ['a quote and SQL', `x'; DROP DATABASE postgres; --.polystore.test`],
    ['two labels', `evil.${'a'}.polystore.test`],
    ['another domain', 'acme.evil.example'],
    ['a suffix trick', 'acme.polystore.test.evil.example'],
    ['an uppercase-free slug rule breach', '9abc.polystore.test'],
    ['a slug over 40 characters', `${'a'.repeat(41)}.polystore.test`],
    ['a path in the host', 'acme.polystore.test/../x'],
    ['an empty label', '.polystore.test'],
    ['a bad port', 'acme.polystore.test:port'],
  ])('isolation - a malformed Host (%s) is 400 before any lookup', async (_label, host) => {
    const res = await stack.request({ path: `/v1/customers/${customerOfA}`, host, apiKey: a.apiKey });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MALFORMED_HOST');
  });

  it('isolation - the Host is case-insensitive and may carry a port', async () => {
    const res = await stack.request({
      path: `/v1/customers/${customerOfA}`,
      host: `${a.slug.toUpperCase()}.POLYSTORE.TEST:8080`,
      apiKey: a.apiKey,
    });
    expect(res.status).toBe(200);
  });

  it('isolation - tenant routes on the base domain are refused (400), admin routes on a tenant host too', async () => {
    const tenantRoute = await stack.request({ path: `/v1/customers/${customerOfA}`, apiKey: a.apiKey });
    expect(tenantRoute.status).toBe(400);
    expect(tenantRoute.body.code).toBe('WRONG_HOST');
    const adminRoute = await stack.request({ path: '/admin/tenants', tenant: a.slug, apiKey: a.apiKey });
    expect(adminRoute.status).toBe(400);
  });

  it('isolation - a tenant API key is not an admin token', async () => {
    const res = await stack.request({ path: '/admin/tenants', apiKey: a.apiKey });
    expect(res.status).toBe(401);
  });

  it('isolation - hostile hosts never reached SQL: the catalog and the store logged no SQL error', () => {
    const errors = [...stack.apps.values()].flatMap((app) => app.records.filter((r) => r['level'] === 'error'));
    expect(errors).toEqual([]);
  });
});
