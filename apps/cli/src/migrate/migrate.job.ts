import { CatalogErrorCode, storeRuntimeLoginName, type CatalogService, type StoreName } from '#polystore/catalog';
import { parseServerUrl, resolveStoreSchema, SchemaAdmin } from '#polystore/data-router';
import { TenantSkipped, type TenantJob } from '#polystore/jobs';
import { isCodedError } from '#polystore/platform';
import { storeBatchRole } from '#polystore/runtime';
import type { TenantSlug } from '#polystore/tenancy';
import { fleetRouter } from '../fleet-router.js';
import { STORE_SCHEMAS } from '../store-apps.js';
import { FleetMigrationState } from './applied-migrations.js';

/** Re-exported for `bench/tenants.mjs`, which reads it from the built CLI. */
export { STORE_SCHEMAS };

/** What `migrate` did (or, dry, would do) in one store of one tenant. */
export type StoreMigration =
  | { readonly store: StoreName; readonly applied: string[] }
  | { readonly store: StoreName; readonly pending: string[] }
  | { readonly store: StoreName; readonly placement: 'none' };

export interface MigrateJobOptions {
  readonly stores: readonly StoreName[];
  readonly dryRun: boolean;
  readonly concurrency: number;
  readonly tenantTimeoutMs: number;
}

/**
 * `migrate` as a tenant job: for each tenant, each store's pending migrations applied to the
 * tenant's database (under the database's migration lock, like provisioning does), or listed
 * with `dryRun`. One DataSource of one connection per (tenant, store) at a time, closed when
 * the tenant is done, so the run holds at most `concurrency` connections per server. A placement
 * that is current is recognised first without a DataSource or a lock: the `schema` placements of
 * a shared database all at once, in a few statements (`FleetMigrationState`); a database of its
 * own on a plain driver connection with one read.
 */
export function migrateJob(
  catalog: CatalogService,
  options: MigrateJobOptions,
): TenantJob<StoreMigration[]> & { close(): Promise<void> } {
  const fleet = new FleetMigrationState();
  const routers = new Map(
    options.stores.map((store) => [store, fleetRouter(catalog, store, { name: `migrate:${store}`, ...options })]),
  );

  // Servers provisioned before stores had a batch role get it before their schemas migrate (the
  // secure store's migration grants it the audit appends); once per (store, server) per run.
  const batchRoles = new Map<string, Promise<void>>();
  const ensureBatchRole = (store: StoreName, serverUrl: string): Promise<void> => {
    const key = `${store} ${parseServerUrl(serverUrl).id}`;
    let ensured = batchRoles.get(key);
    if (!ensured) {
      ensured = SchemaAdmin.ensureBatchRole(serverUrl, storeRuntimeLoginName(store), storeBatchRole(store));
      ensured.catch(() => batchRoles.delete(key));
      batchRoles.set(key, ensured);
    }
    return ensured;
  };

  const migrateStore = async (tenant: TenantSlug, store: StoreName): Promise<StoreMigration> => {
    const router = routers.get(store)!;
    try {
      // Most databases are current: one plain connection and one read say so, without a DataSource.
      const placement = await catalog.getPlacementFresh(tenant, store);
      const schema = resolveStoreSchema(STORE_SCHEMAS[store], parseServerUrl(placement.serverUrl).dialect);
      if ((await fleet.isCurrent(placement, schema)) === true)
        return options.dryRun ? { store, pending: [] } : { store, applied: [] };
      if (options.dryRun) return { store, pending: await router.pendingMigrations() };
      // A server URL naming the runtime login (no provisioning login): `db-roles` made the batch role.
      if (placement.kind === 'schema' && parseServerUrl(placement.serverUrl).username !== storeRuntimeLoginName(store))
        await ensureBatchRole(store, placement.serverUrl);
      return { store, applied: (await router.migrate()).applied };
    } catch (error) {
      if (isCodedError(error) && error.code === CatalogErrorCode.PLACEMENT_NOT_FOUND)
        return { store, placement: 'none' };
      throw new StoreMigrationFailed(store, error);
    } finally {
      await router.releaseTenant(tenant);
    }
  };

  return {
    name: 'migrate',
    description: "applies each store's pending migrations to every tenant database",
    intervalMs: 0,
    tenantTimeoutMs: options.tenantTimeoutMs,
    concurrency: options.concurrency,
    async run(tenant) {
      const results: StoreMigration[] = [];
      for (const store of options.stores) results.push(await migrateStore(tenant, store));
      if (results.every((r) => 'placement' in r)) throw new TenantSkipped('no database in the selected stores');
      return results;
    },
    async close() {
      await Promise.all([...routers.values()].map((r) => r.close()));
    },
  };
}

/** A store's failure, named: the report says which of the tenant's databases failed. */
class StoreMigrationFailed extends Error {
  readonly code: string;
  constructor(
    readonly store: StoreName,
    cause: unknown,
  ) {
    const inner = cause as { code?: unknown; message?: unknown };
    super(`${store}: ${typeof inner?.message === 'string' ? inner.message : String(cause)}`, { cause });
    this.code = typeof inner?.code === 'string' ? inner.code : 'MIGRATION_FAILED';
  }
}
