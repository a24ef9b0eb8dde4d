import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/eventually.js';
import { uniqueToken } from '../support/ids.js';
import { countConnections, pgQuery } from '../support/pg.js';
import { TestStack } from '../support/stack.js';

/** Tenants whose creation is in flight: registered in the catalog, waiting for their databases. */
async function provisioningCount(slugs: string[]): Promise<number> {
  const rows = await pgQuery<{ n: number }>(
    `SELECT count(*)::int AS n FROM tenants WHERE slug = ANY($1) AND status = 'provisioning'`,
    [slugs],
    'polystore_test_system',
  );
  return rows[0]!.n;
}

/**
 * How many of the tenants' secure schemas exist: the secure store creates one as the first act of
 * its provisioning, so a schema means the store has taken that provisioning message.
 */
async function secureSchemasCreated(slugs: string[]): Promise<number> {
  const placements = await pgQuery<{ schema: string }>(
    `SELECT p.schema_name AS schema FROM placements p JOIN tenants t ON t.id = p.tenant_id
     WHERE t.slug = ANY($1) AND p.store = 'secure' AND p.schema_name IS NOT NULL`,
    [slugs],
    'polystore_test_system',
  );
  if (placements.length === 0) return 0;
  const rows = await pgQuery<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ANY($1)',
    [placements.map((p) => p.schema)],
    'polystore_secure',
  );
  return rows[0]!.n;
}

describe('graceful shutdown - SIGTERM drains in-flight work and closes every DataSource (e2e)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // A creation whose provisioning message reaches the secure store after its SIGTERM waits
    // for the store: the gateway answers it 202 (saga still running) after this, not after 60 s.
    stack = await TestStack.start({ apps: ['secure-store', 'gateway'], env: { PROVISION_TIMEOUT_MS: '10000' } });
  });

  afterAll(async () => {
    for (const app of ['secure-store', 'gateway'] as const) if (!stack?.app(app).isRunning) await stack?.startApp(app);
    await stack?.close();
  });

  function createTenants(slugs: string[]) {
    return slugs.map((slug) => stack.admin<{ apiKey: string }>('POST', '/admin/tenants', { slug, name: slug }));
  }

  it('shutdown - the gateway answers every request it accepted before exiting 0, and refuses new ones on both its ports', async () => {
    const slugs = Array.from({ length: 4 }, () => `e2e-${uniqueToken(8)}-gw`);
    const inFlight = createTenants(slugs);
    await eventually(async () => (await provisioningCount(slugs)) > 0, { what: 'creations in flight' });

    const gateway = stack.app('gateway');
    const { port, adminPort } = gateway;
    expect((await fetch(`http://127.0.0.1:${adminPort}/health/live`)).status).toBe(200);
    const exit = gateway.stop('SIGTERM');
    const responses = await Promise.all(inFlight);
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(gateway.records.some((r) => r['msg'] === 'stopped')).toBe(true);

    const statuses = await pgQuery<{ status: string }>(
      `SELECT status FROM tenants WHERE slug = ANY($1)`,
      [slugs],
      'polystore_test_system',
    );
    expect(statuses.map((s) => s.status)).toEqual(['active', 'active', 'active', 'active']);
    // Both ports closed: the public one and the admin one (where the creations above were in flight).
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${adminPort}/health/live`)).rejects.toThrow();

    await stack.startApp('gateway');
    for (const slug of slugs) expect((await stack.admin('DELETE', `/admin/tenants/${slug}`)).status).toBe(204);
  });

  it('shutdown - the secure store finishes in-flight messages, closes every DataSource, and exits 0', async () => {
    const warm = await stack.createTenant('warm');
    const customer = await stack.request({
      method: 'POST',
      path: '/v1/customers',
      tenant: warm.slug,
      apiKey: warm.apiKey,
      body: { name: 'Warm', email: 'warm@example.com' },
    });
    expect(customer.status).toBe(201);
    const application = `polystore-secure:${stack.prefix}-secure-store`;
    expect(await countConnections(application)).toBeGreaterThan(0);

    const slugs = Array.from({ length: 3 }, () => `e2e-${uniqueToken(8)}-st`);
    const inFlight = createTenants(slugs);
    await eventually(async () => (await provisioningCount(slugs)) === slugs.length, { what: 'provisioning in flight' });
    // The store has taken at least one provisioning message (its schema exists): SIGTERM now must
    // let that one finish.
    await eventually(async () => (await secureSchemasCreated(slugs)) >= 1, {
      what: 'the secure store provisioning a tenant',
    });

    const store = stack.app('secure-store');
    const exit = await store.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    const closed = store.records.find((r) => r['msg']?.toString().startsWith('data sources closed'));
    expect(Number(closed?.['closed'])).toBeGreaterThanOrEqual(1);
    expect(await countConnections(application)).toBe(0);

    // Whatever the store accepted before SIGTERM completed; a creation whose message came after
    // it got a clean answer: 503, or 202 while its saga waits for the store to come back.
    const responses = await Promise.all(inFlight);
    for (const response of responses) expect([201, 202, 503]).toContain(response.status);
    expect(responses.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(1);

    await stack.startApp('secure-store');
    for (const [i, slug] of slugs.entries()) {
      if (responses[i]!.status === 201)
        expect((await stack.admin('DELETE', `/admin/tenants/${slug}`)).status).toBe(204);
    }
  });
});
