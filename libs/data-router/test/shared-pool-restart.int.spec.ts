import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { DataRouterErrorCode, DataSourceRouter, SchemaAdmin, type DataSourcePlacement } from '#polystore/data-router';
import { eventually } from '../../../test/support/eventually.js';
import { PrivatePostgres } from '../../../test/support/postgres-server.js';

/**
 * A shared pool across a PostgreSQL crash and restart: while the server is down its tenants fail
 * fast with DATABASE_UNAVAILABLE (never a hang, never another tenant's data); once it is back the
 * same process serves them again from the same pool, on fresh connections.
 */
describe('data-router - a schema placement across a server crash and restart (private PostgreSQL)', () => {
  let server: PrivatePostgres;
  const login = { username: 'ps_restart_runtime', password: 'restart-test-password-0123' };
  const tenants = ['a', 'b'].map((t) => parseTenantSlug(`restart-${t}`));
  const schemaOf = (tenant: string) => `ps_restart_${tenant.slice(-1)}`;
  const placementOf = (tenant: string): DataSourcePlacement => ({
    tenant,
    serverUrl: server.url,
    database: 'polystore_restart',
    kind: 'schema',
    schema: schemaOf(tenant),
    version: 1,
  });
  const read = (router: DataSourceRouter, tenant: string) =>
    runAsTenant(
      parseTenantSlug(tenant),
      () => router.run((db) => db.query<Array<{ tenant: string }>>('SELECT tenant FROM marker')),
      10_000,
    );

  beforeAll(async () => {
    server = await PrivatePostgres.create();
    for (const tenant of tenants) {
      await SchemaAdmin.ensureTenantSchema(server.url, 'polystore_restart', schemaOf(tenant), login);
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: `${server.url}/polystore_restart` });
      await client.connect();
      await client.query(
        `SET ROLE "${schemaOf(tenant)}"; CREATE TABLE "${schemaOf(tenant)}".marker (tenant text); INSERT INTO "${schemaOf(tenant)}".marker VALUES ('${tenant}')`,
      );
      await client.end();
    }
  }, 120_000);

  afterAll(() => {
    server?.destroy();
  });

  it('data-router - fails fast while the server is down, then serves every tenant again from the same process', async () => {
    const router = new DataSourceRouter({
      name: 'restart-test',
      resolvePlacement: (tenant) => Promise.resolve(placementOf(tenant)),
      schema: { entities: [] },
      poolSize: 2,
      connectionBudget: 10,
      sharedPoolSize: 4,
      idleTtlMs: 60_000,
      maxWaiters: 100,
      acquireTimeoutMs: 2_000,
      connectTimeoutMs: 1_000,
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 200 },
      applicationName: 'restart-test',
      sharedLogin: () => login,
    });
    try {
      for (const tenant of tenants) await expect(read(router, tenant)).resolves.toEqual([{ tenant }]);
      server.stop();
      const started = Date.now();
      const down = await Promise.allSettled(tenants.map((tenant) => read(router, tenant)));
      expect(Date.now() - started).toBeLessThan(5_000);
      for (const outcome of down) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({
          code: DataRouterErrorCode.DATABASE_UNAVAILABLE,
        });
      }
      await server.start();
      for (const tenant of tenants) {
        const rows = await eventually(() => read(router, tenant).catch(() => false), {
          timeoutMs: 20_000,
          what: `${tenant} served again`,
        });
        expect(rows).toEqual([{ tenant }]);
      }
      // One pool throughout: recovered in place, not by opening another.
      expect(router.stats().sharedPools).toHaveLength(1);
    } finally {
      await router.close();
    }
  }, 90_000);
});
