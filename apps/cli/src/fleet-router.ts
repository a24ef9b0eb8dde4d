import type { CatalogService, StoreName } from '#polystore/catalog';
import { DataSourceRouter } from '#polystore/data-router';
import { STORE_SCHEMAS } from './store-apps.js';

/**
 * A data router for a CLI job over the fleet (`migrate`, `keys`): each tenant's `store`
 * placement read fresh from the catalog, one connection per DataSource and at most
 * `concurrency` per server, so a run never crowds out the stores. A broken database is that
 * tenant's failure, reported; the breaker never opens, so it never blocks the others.
 */
export function fleetRouter(
  catalog: CatalogService,
  store: StoreName,
  options: { name: string; concurrency: number; tenantTimeoutMs: number },
): DataSourceRouter {
  return new DataSourceRouter({
    name: options.name,
    resolvePlacement: (tenant) => catalog.getPlacementFresh(tenant, store),
    schema: STORE_SCHEMAS[store],
    poolSize: 1,
    connectionBudget: Math.max(1, options.concurrency),
    idleTtlMs: 60_000,
    maxWaiters: 10_000,
    acquireTimeoutMs: options.tenantTimeoutMs,
    breaker: { consecutiveFailures: 1_000_000, halfOpenAfterMs: 1 },
    applicationName: `polystore-${options.name}`,
  });
}
