import { DataSourceRouter } from '#polystore/data-router';
import { runAsTenant, type TenantSlug } from '#polystore/tenancy';

/**
 * Runs `sql` once as `tenant`, whose only placement is `database` (a database of its own) on
 * `serverUrl`, through a router of its own that is closed afterwards: every connection the router
 * makes for it (the budget probe, on MySQL/MariaDB the landing database and the server's shared
 * pool, on PostgreSQL the tenant's own pool) follows `serverUrl`, its TLS settings included.
 */
export async function queryAsOnlyTenant<R>(
  serverUrl: string,
  tenant: TenantSlug,
  database: string,
  sql: string,
): Promise<R[]> {
  const router = new DataSourceRouter({
    name: 'tls-test',
    resolvePlacement: (t) => Promise.resolve({ tenant: t, serverUrl, database, kind: 'database', version: 1 }),
    schema: { entities: [] },
    poolSize: 1,
    connectionBudget: 4,
    serverShare: { share: 0.5, reserve: 0 },
    sharedPoolSize: 2,
    idleTtlMs: 60_000,
    maxWaiters: 10,
    acquireTimeoutMs: 5_000,
    breaker: { consecutiveFailures: 100, halfOpenAfterMs: 100 },
    applicationName: 'polystore-tls-test',
  });
  try {
    return await runAsTenant(tenant, () => router.run<R[]>((db) => db.query(sql)));
  } finally {
    await router.close();
  }
}
