import { Injectable, Logger } from '@nestjs/common';
import pLimit, { type LimitFunction } from 'p-limit';
import { CatalogException, CatalogService, withPlacementLock, type StoreName } from '#polystore/catalog';
import type { DataSource } from 'typeorm';
import { DatabaseAdmin, DataSourceRouter, SchemaAdmin, type RuntimeLogin } from '#polystore/data-router';
import { RequestContextStore, type TenantSlug } from '#polystore/tenancy';

/**
 * Creates and drops the current tenant's placement for one store: its schema and role in the
 * store's shared database (`schema`), or its database (`database`, `dedicated`). The placement is read from
 * the catalog, fresh (never from the caller, never from a stale cache); both operations are
 * idempotent, so provisioning can be retried after any failure.
 *
 * Both run under a per-(store, tenant) advisory lock in the system database, and provisioning
 * re-checks, under it, that the tenant is still `provisioning` or `active`: a provisioning
 * request that arrives late, after the tenant-provisioning saga began compensating (status
 * `deleting`), is refused instead of re-creating a database that is being dropped.
 *
 * The lock pins a system-database connection for the whole operation, and the work under it
 * reads the catalog through the same pool; so at most `pool size - 1` operations hold a lock
 * at once in a process (the others queue), and one connection is always left for those reads.
 * Without that bound, as many concurrent provisions as the pool has connections deadlock
 * until the pool's connect timeout.
 */
@Injectable()
export class TenantDatabaseProvisioner {
  private readonly logger = new Logger(TenantDatabaseProvisioner.name);
  private readonly lockHolders: LimitFunction;

  constructor(
    private readonly store: StoreName,
    private readonly catalog: CatalogService,
    private readonly router: DataSourceRouter,
    private readonly systemDb: DataSource,
    private readonly runtimeLogin: RuntimeLogin,
  ) {
    // CATALOG_POOL_SIZE is at least 2 (validated with the config).
    this.lockHolders = pLimit(Math.max(1, (systemDb.options.poolSize ?? 10) - 1));
  }

  /** Ensures the schema or database exists and carries every migration. */
  async provision(): Promise<{ database: string; created: boolean; migrations: string[] }> {
    const tenant = RequestContextStore.requireTenant();
    return this.underTenantLock(tenant, async () => {
      const record = await this.catalog.findTenantFresh(tenant);
      if (!record) throw CatalogException.tenantNotFound(tenant);
      if (record.status !== 'provisioning' && record.status !== 'active')
        throw CatalogException.tenantNotReady(tenant, record.status);
      return this.provisionUnlocked(tenant);
    });
  }

  private async provisionUnlocked(
    tenant: TenantSlug,
  ): Promise<{ database: string; created: boolean; migrations: string[] }> {
    const placement = await this.catalog.getPlacementFresh(tenant, this.store);
    const created =
      placement.kind === 'schema'
        ? await SchemaAdmin.ensureTenantSchema(
            placement.serverUrl,
            placement.database,
            placement.schema!,
            this.runtimeLogin,
          )
        : await DatabaseAdmin.ensureDatabase(placement.serverUrl, placement.database);
    const { applied } = await this.router.migrate();
    const where = placement.schema ? `${placement.database}.${placement.schema}` : placement.database;
    this.logger.log(
      { store: this.store, placement: where, kind: placement.kind, created, applied },
      'tenant data ready',
    );
    return { database: where, created, migrations: applied };
  }

  /** Closes the tenant's DataSources (after in-flight work) and drops its schema or database. */
  async drop(): Promise<{ dropped: boolean }> {
    const tenant = RequestContextStore.requireTenant();
    return this.underTenantLock(tenant, () => this.dropUnlocked(tenant));
  }

  private async dropUnlocked(tenant: TenantSlug): Promise<{ dropped: boolean }> {
    const placement = await this.catalog.getPlacementFresh(tenant, this.store).catch(() => null);
    if (!placement) return { dropped: false };
    await this.router.releaseTenant(tenant);
    const dropped =
      placement.kind === 'schema'
        ? await SchemaAdmin.dropTenantSchema(
            placement.serverUrl,
            placement.database,
            placement.schema!,
            this.runtimeLogin,
          )
        : await DatabaseAdmin.dropDatabase(placement.serverUrl, placement.database);
    this.logger.log(
      { store: this.store, database: placement.database, kind: placement.kind, dropped },
      'tenant data dropped',
    );
    return { dropped };
  }

  private underTenantLock<T>(tenant: TenantSlug, work: () => Promise<T>): Promise<T> {
    return this.lockHolders(() => this.lockedRun(tenant, work));
  }

  private lockedRun<T>(tenant: TenantSlug, work: () => Promise<T>): Promise<T> {
    return withPlacementLock(this.systemDb, this.store, tenant, work);
  }
}
