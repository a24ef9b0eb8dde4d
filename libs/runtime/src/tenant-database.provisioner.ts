import { Injectable, Logger } from '@nestjs/common';
import { CatalogService, type StoreName } from '#polystore/catalog';
import { DatabaseAdmin, DataSourceRouter, migrateDatabase } from '#polystore/data-router';
import { RequestContextStore } from '#polystore/tenancy';

/**
 * Creates and drops the current tenant's database for one store. The placement is read from
 * the catalog, fresh (never from the caller, never from a stale cache); both operations are
 * idempotent, so provisioning can be retried after any failure.
 */
@Injectable()
export class TenantDatabaseProvisioner {
  private readonly logger = new Logger(TenantDatabaseProvisioner.name);

  constructor(
    private readonly store: StoreName,
    private readonly catalog: CatalogService,
    private readonly router: DataSourceRouter,
  ) {}

  /** Ensures the database exists and carries every migration. */
  async provision(): Promise<{ database: string; created: boolean; migrations: string[] }> {
    const tenant = RequestContextStore.requireTenant();
    const placement = await this.catalog.getPlacementFresh(tenant, this.store);
    const created = await DatabaseAdmin.ensureDatabase(placement.serverUrl, placement.database);
    const { applied } = await this.router.run((ds) => migrateDatabase(ds));
    this.logger.log({ store: this.store, database: placement.database, created, applied }, 'tenant database ready');
    return { database: placement.database, created, migrations: applied };
  }

  /** Closes the tenant's DataSources (after in-flight work) and drops its database. */
  async drop(): Promise<{ dropped: boolean }> {
    const tenant = RequestContextStore.requireTenant();
    const placement = await this.catalog.getPlacementFresh(tenant, this.store).catch(() => null);
    if (!placement) return { dropped: false };
    await this.router.releaseTenant(tenant);
    const dropped = await DatabaseAdmin.dropDatabase(placement.serverUrl, placement.database);
    this.logger.log({ store: this.store, database: placement.database, dropped }, 'tenant database dropped');
    return { dropped };
  }
}
