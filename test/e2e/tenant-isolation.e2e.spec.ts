import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueToken } from '../support/ids.js';
import { TEST_ADMIN_TOKEN, TestStack, type TestTenant } from '../support/stack.js';

/** Resolves once a TCP connection to `host:port` opens (and closes it); rejects with the error otherwise. */
function tcpConnect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

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

  it("isolation - B's key on A's host is refused with 401, as a wrong key is (a valid key never tells which other tenants exist)", async () => {
    const res = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: a.slug, apiKey: b.apiKey });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });

  it("isolation - A's key on B's host is refused with 401", async () => {
    const res = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: b.slug, apiKey: a.apiKey });
    expect(res.status).toBe(401);
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

  it('isolation - an unknown tenant is 401, as a wrong key is', async () => {
    const res = await stack.request({ path: `/v1/customers/${customerOfA}`, tenant: 'nobody-here', apiKey: a.apiKey });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
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
    const adminRoute = await stack.internal({ path: '/admin/tenants', tenant: a.slug, apiKey: a.apiKey });
    expect(adminRoute.status).toBe(400);
  });

  it('isolation - a tenant API key is not an admin token', async () => {
    const res = await stack.internal({ path: '/admin/tenants', apiKey: a.apiKey });
    expect(res.status).toBe(401);
  });

  it('isolation - no public internals: /metrics, /docs, /health/ready and the admin API answer 404 on the public port (even with the admin token) and are served on the admin port, bound to 127.0.0.1; /health/live is on both', async () => {
    const internals = ['/metrics', '/docs', '/docs-json', '/docs/swagger-ui.css', '/health/ready', '/admin/tenants'];
    for (const path of internals) {
      const hidden = await stack.request({ path, apiKey: TEST_ADMIN_TOKEN });
      // The body of any unknown route: nothing tells an internal path from a missing one.
      expect([path, hidden.status, hidden.body]).toEqual([
        path,
        404,
        { statusCode: 404, code: 'ROUTE_NOT_FOUND', message: 'no such route', correlationId: expect.any(String) },
      ]);
      const served = await stack.internal({ path, apiKey: TEST_ADMIN_TOKEN });
      expect([path, served.status]).toEqual([path, 200]);
    }
    expect((await stack.internal({ path: '/metrics' })).text).toContain('polystore_http_request_seconds');
    // A write through the public port never reaches the handler: the tenant is not created.
    const slug = `e2e-${uniqueToken(8)}-hidden`;
    const create = await stack.request({
      method: 'POST',
      path: '/admin/tenants',
      apiKey: TEST_ADMIN_TOKEN,
      body: { slug, name: 'Hidden' },
    });
    expect(create.status).toBe(404);
    const listed = await stack.admin<{ items: Array<{ slug: string }> }>('GET', '/admin/tenants');
    expect(listed.body.items.map((t) => t.slug)).not.toContain(slug);
    expect(listed.body.items.map((t) => t.slug)).toContain(a.slug);

    expect((await stack.request({ path: '/health/live' })).status).toBe(200);
    expect((await stack.internal({ path: '/health/live' })).status).toBe(200);
    // The tenant API is not on the admin port.
    const tenantRoute = await stack.internal({
      path: `/v1/customers/${customerOfA}`,
      tenant: a.slug,
      apiKey: a.apiKey,
    });
    expect([tenantRoute.status, tenantRoute.body.code]).toEqual([404, 'ROUTE_NOT_FOUND']);

    // Loopback by default (ADMIN_HOST unset): bound to 127.0.0.1 itself, not to every interface,
    // so even another loopback address (127.0.0.2) is refused.
    const ready = stack.app('gateway').records.find((r) => r['msg'] === 'ready');
    expect(ready).toMatchObject({ adminHost: '127.0.0.1', adminPort: stack.adminPort });
    await expect(tcpConnect('127.0.0.1', stack.adminPort)).resolves.toBeUndefined();
    await expect(tcpConnect('127.0.0.2', stack.adminPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('isolation - hostile hosts never reached SQL: the catalog and the store logged no SQL error', () => {
    const errors = [...stack.apps.values()].flatMap((app) => app.records.filter((r) => r['level'] === 'error'));
    expect(errors).toEqual([]);
  });
});
