import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { httpRequest } from '../support/http.js';
import { sampleConnections } from '../support/pg.js';
import { TestStack, type TestTenant } from '../support/stack.js';

/** A gauge value from a Prometheus text page. */
function metric(page: string, name: string): number {
  const line = page.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} not found`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('connection budget - many tenants, few connections (e2e through the gateway)', () => {
  const TENANTS = 60;
  let stack: TestStack;
  const tenants: Array<TestTenant & { customerId: string }> = [];

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['secure-store', 'gateway'],
      // The smallest catalog pool: 6 tenants provisioned at once must queue for the
      // provisioning lock, not deadlock the pool (each lock pins a catalog connection).
      env: { SECURE_DB_CONNECTION_BUDGET: '20', SECURE_DB_POOL_SIZE: '2', CATALOG_POOL_SIZE: '2' },
    });
    for (let batch = 0; batch < TENANTS; batch += 6) {
      const created = await Promise.all(
        Array.from({ length: Math.min(6, TENANTS - batch) }, () => stack.createTenant()),
      );
      for (const t of created) {
        const customer = await stack.request({
          method: 'POST',
          path: '/v1/customers',
          tenant: t.slug,
          apiKey: t.apiKey,
          body: { name: 'Budget', email: `${t.slug}@example.com` },
        });
        expect(customer.status).toBe(201);
        tenants.push({ ...t, customerId: customer.body.id });
      }
    }
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  }, 120_000);

  const applicationName = () => `polystore-secure:${stack.prefix}-secure-store`;

  it('budget - 60 tenants served with a budget of 20 connections: no error, never more than 20 connections', async () => {
    const sampler = sampleConnections(applicationName());
    const statuses: number[] = [];
    // 20 concurrent clients, 6 reads each; together they read every tenant's customer twice
    // (every read on a cold tenant: 10 DataSource slots for 60 tenants means constant eviction).
    await Promise.all(
      Array.from({ length: 20 }, async (_, client) => {
        for (let k = 0; k < 6; k++) {
          const t = tenants[(client * 3 + (k % 3) + (k >= 3 ? 30 : 0)) % TENANTS]!;
          const res = await stack.request({ path: `/v1/customers/${t.customerId}`, tenant: t.slug, apiKey: t.apiKey });
          statuses.push(res.status);
        }
      }),
    );
    const peak = await sampler.stop();
    expect(statuses).toHaveLength(120);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(20);
  }, 180_000);

  it('budget - 50 concurrent first requests for a cold tenant all succeed and initialize its DataSource once', async () => {
    await stack.app('secure-store').stop('SIGTERM');
    await stack.startApp('secure-store');
    const storePort = stack.app('secure-store').port;
    const before = (await httpRequest({ port: storePort, path: '/metrics' })).text;
    expect(metric(before, 'polystore_datasources_opened_total')).toBe(0);

    const t = tenants[7]!;
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        stack.request({ path: `/v1/customers/${t.customerId}`, tenant: t.slug, apiKey: t.apiKey }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const after = (await httpRequest({ port: storePort, path: '/metrics' })).text;
    expect(metric(after, 'polystore_datasources_opened_total')).toBe(1);
    expect(metric(after, 'polystore_datasource_init_failures_total')).toBe(0);
  }, 60_000);
});
