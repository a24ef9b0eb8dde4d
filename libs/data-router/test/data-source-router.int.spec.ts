import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenantSlug, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import {
  DataRouterErrorCode,
  DataSourceRouter,
  DatabaseAdmin,
  type DataSourcePlacement,
  type DataSourceRouterOptions,
} from '#polystore/data-router';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { countConnections, dropDatabasesLike, sampleConnections } from '../../../test/support/pg.js';
import { TestServices } from '../../../test/support/services.js';

const run = uniqueToken(6);
const dbPrefix = `ps_rt_${run}_`;
const databaseOf = (tenant: string) => `${dbPrefix}${tenant.replace(/-/g, '_')}`;
const tenantOf = (i: number) => parseTenantSlug(`t${i}`);

function placementOf(tenant: TenantSlug, version = 1, database = databaseOf(tenant)): DataSourcePlacement {
  return { tenant, serverUrl: TestServices.postgresUrl, database, kind: 'database', version };
}

function routerWith(overrides: Partial<DataSourceRouterOptions> = {}): { router: DataSourceRouter; app: string } {
  const app = `rt-${uniqueToken(10)}`;
  const router = new DataSourceRouter({
    name: 'test',
    resolvePlacement: (tenant) => Promise.resolve(placementOf(tenant)),
    schema: { entities: [] },
    poolSize: 2,
    connectionBudget: 20,
    idleTtlMs: 60_000,
    maxWaiters: 1_000,
    acquireTimeoutMs: 5_000,
    breaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 },
    applicationName: app,
    ...overrides,
  });
  return { router, app };
}

const query = (router: DataSourceRouter, tenant: TenantSlug, sql = 'SELECT 1 AS one') =>
  runAsTenant(tenant, () => router.run((ds) => ds.query(sql)), 30_000);

describe('data-router (real PostgreSQL)', () => {
  const TENANTS = 60;

  beforeAll(async () => {
    for (let i = 0; i < TENANTS; i++)
      await DatabaseAdmin.ensureDatabase(TestServices.postgresUrl, databaseOf(tenantOf(i)));
  }, 120_000);

  afterAll(async () => {
    await dropDatabasesLike(dbPrefix);
  }, 120_000);

  it('data-router - a cold tenant hit by 50 concurrent requests initializes once', async () => {
    const { router } = routerWith();
    try {
      const results = await Promise.all(Array.from({ length: 50 }, () => query(router, tenantOf(0))));
      expect(results).toHaveLength(50);
      expect(results.every((rows) => (rows as Array<{ one: number }>)[0]!.one === 1)).toBe(true);
      const stats = router.stats();
      expect(stats.opened).toBe(1);
      expect(stats.dataSources).toHaveLength(1);
      expect(stats.dataSources[0]!.uses).toBe(50);
    } finally {
      await router.close();
    }
  });

  it('data-router - 60 tenants served with a budget of 20 connections never open more than 20', async () => {
    const { router, app } = routerWith({ poolSize: 5, connectionBudget: 20 });
    const sampler = sampleConnections(app);
    let peak: number;
    try {
      // 20 concurrent clients; together they visit every tenant twice (120 requests).
      const work = Array.from({ length: 20 }, async (_, client) => {
        const results: PromiseSettledResult<unknown>[] = [];
        for (let k = 0; k < 6; k++) {
          const tenant = tenantOf((client + 20 * k) % TENANTS);
          results.push(...(await Promise.allSettled([query(router, tenant, 'SELECT pg_sleep(0.002)')])));
        }
        return results;
      });
      const outcomes = (await Promise.all(work)).flat();
      expect(outcomes).toHaveLength(120);
      const failures = outcomes.filter((o) => o.status === 'rejected');
      expect(failures).toEqual([]);
      const stats = router.stats();
      expect(stats.servers[0]!.connectionBudget).toBe(20);
      expect(stats.opened).toBeGreaterThanOrEqual(TENANTS);
      expect(stats.servers[0]!.evictions).toBeGreaterThan(0);
    } finally {
      peak = await sampler.stop();
      await router.close();
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(20);
    await eventually(async () => (await countConnections(app)) === 0, { what: 'connections closed' });
  }, 60_000);

  it('data-router - eviction never closes a DataSource with work in flight', async () => {
    const { router } = routerWith({ poolSize: 1, connectionBudget: 1 });
    try {
      const slow = query(router, tenantOf(1), 'SELECT pg_sleep(0.4), 1 AS done');
      await eventually(() => router.stats().dataSources.some((d) => d.inFlight === 1 && d.state === 'open'));
      let fastDoneAt = 0;
      const fast = query(router, tenantOf(2)).then((rows) => {
        fastDoneAt = Date.now();
        return rows;
      });
      const slowRows = (await slow) as Array<{ done: number }>;
      const slowDoneAt = Date.now();
      await fast;
      expect(slowRows[0]!.done).toBe(1);
      expect(fastDoneAt).toBeGreaterThanOrEqual(slowDoneAt);
      expect(router.stats().servers[0]!.evictions).toBe(1);
    } finally {
      await router.close();
    }
  });

  it("data-router - a unit of work that used the tenant's own DataSource, then releases the tenant (a drop after a revocation), does not wait for itself", async () => {
    const { router, app } = routerWith();
    try {
      const tenant = tenantOf(3);
      const released = runAsTenant(
        tenant,
        () =>
          router.withLeaseScope(async () => {
            await router.run((ds) => ds.query('SELECT 1'));
            await router.releaseTenant(tenant); // waited forever for the scope's own lease before
            return 'released';
          }),
        30_000,
      );
      const outcome = await Promise.race([
        released,
        new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5_000).unref()),
      ]);
      expect(outcome).toBe('released');
      expect(router.stats().dataSources).toEqual([]);
      await eventually(async () => (await countConnections(app)) === 0, { what: 'its connections closed' });
      // The next unit of work for the tenant opens a fresh DataSource.
      expect(await query(router, tenant)).toEqual([{ one: 1 }]);
    } finally {
      await router.close();
    }
  });

  it('data-router - at the budget with every DataSource busy, callers get STORE_BUSY after a bounded wait', async () => {
    const { router } = routerWith({ poolSize: 1, connectionBudget: 1, acquireTimeoutMs: 150, maxWaiters: 1 });
    try {
      const slow = query(router, tenantOf(3), 'SELECT pg_sleep(1)');
      await eventually(() => router.stats().dataSources.some((d) => d.inFlight === 1 && d.state === 'open'));
      const started = Date.now();
      const waiting = query(router, tenantOf(4));
      const overflow = query(router, tenantOf(5));
      await expect(overflow).rejects.toMatchObject({
        code: DataRouterErrorCode.STORE_BUSY,
        details: { reason: 'queue full' },
      });
      await expect(waiting).rejects.toMatchObject({
        code: DataRouterErrorCode.STORE_BUSY,
        details: { reason: 'wait timed out' },
      });
      expect(Date.now() - started).toBeLessThan(900);
      await slow;
      await expect(query(router, tenantOf(4))).resolves.toEqual([{ one: 1 }]);
    } finally {
      await router.close();
    }
  });

  it('data-router - a placement version bump opens a fresh DataSource and retires the old one', async () => {
    let version = 1;
    const { router } = routerWith({ resolvePlacement: (tenant) => Promise.resolve(placementOf(tenant, version)) });
    try {
      await query(router, tenantOf(6));
      version = 2;
      router.retire(tenantOf(6));
      await query(router, tenantOf(6));
      const stats = router.stats();
      expect(stats.opened).toBe(2);
      await eventually(() => router.stats().closed === 1, { what: 'old DataSource closed' });
      expect(router.stats().dataSources.map((d) => d.version)).toEqual([2]);
    } finally {
      await router.close();
    }
  });

  it('data-router - a missing database opens the circuit, fails fast, and recovers by itself', async () => {
    const tenant = parseTenantSlug(`t-missing-${run}`);
    const database = `${dbPrefix}missing`;
    const { router } = routerWith({ resolvePlacement: (t) => Promise.resolve(placementOf(t, 1, database)) });
    try {
      for (let i = 0; i < 3; i++) {
        await expect(query(router, tenant)).rejects.toMatchObject({
          code: DataRouterErrorCode.DATABASE_UNAVAILABLE,
          details: { reason: '3D000' },
        });
      }
      const started = Date.now();
      await expect(query(router, tenant)).rejects.toMatchObject({
        code: DataRouterErrorCode.DATABASE_UNAVAILABLE,
        details: { reason: 'circuit open' },
      });
      expect(Date.now() - started).toBeLessThan(50);
      expect(router.stats().initFailures).toBe(3);

      await DatabaseAdmin.ensureDatabase(TestServices.postgresUrl, database);
      await eventually(() => query(router, tenant), { what: 'recovery after the half-open probe', timeoutMs: 5_000 });
    } finally {
      await router.close();
    }
  });

  it('database admin - creations of one database racing each other all succeed, one of them creates it', async () => {
    const database = `${dbPrefix}race`;
    const created = await Promise.all(
      Array.from({ length: 6 }, () => DatabaseAdmin.ensureDatabase(TestServices.postgresUrl, database)),
    );
    expect(created.filter(Boolean)).toHaveLength(1);
  });

  it('data-router - a hostile database name from a placement never reaches the server', async () => {
    const { router } = routerWith({
      resolvePlacement: (tenant) => Promise.resolve(placementOf(tenant, 1, 'x"; DROP DATABASE postgres; --')),
    });
    try {
      await expect(query(router, tenantOf(7))).rejects.toMatchObject({ code: DataRouterErrorCode.INVALID_PLACEMENT });
      expect(router.stats().opened + router.stats().initFailures).toBe(0);
    } finally {
      await router.close();
    }
  });

  it('data-router - work outside a tenant context is refused', async () => {
    const { router } = routerWith();
    try {
      await expect(router.run((ds) => ds.query('SELECT 1'))).rejects.toMatchObject({ code: 'NO_TENANT_CONTEXT' });
    } finally {
      await router.close();
    }
  });

  it('data-router - close() lets in-flight work finish, then closes every DataSource', async () => {
    const { router, app } = routerWith();
    const slow = query(router, tenantOf(8), 'SELECT pg_sleep(0.3), 2 AS done');
    await eventually(() => router.stats().dataSources.some((d) => d.inFlight === 1 && d.state === 'open'));
    const closed = await router.close();
    await expect(slow).resolves.toEqual([{ pg_sleep: '', done: 2 }]);
    expect(closed).toBe(1);
    expect(await countConnections(app)).toBe(0);
    await expect(query(router, tenantOf(8))).rejects.toMatchObject({ code: DataRouterErrorCode.ROUTER_CLOSED });
  });
});
