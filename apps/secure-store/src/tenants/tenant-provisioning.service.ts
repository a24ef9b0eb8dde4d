import { Injectable, Logger } from '@nestjs/common';
import { CatalogService } from '#polystore/catalog';
import { DatabaseAdmin, DataSourceRouter, migrateDatabase } from '#polystore/data-router';
import { RequestContextStore } from '#polystore/tenancy';
import { TenantKeyring } from '../crypto/tenant-keyring.service.js';

/**
 * Creates and drops the current tenant's secure database. The placement is read from the
 * catalog (fresh, not cached): the caller only names the tenant. Both operations are idempotent.
 */
@Injectable()
export class TenantProvisioningService {
  private readonly logger = new Logger(TenantProvisioningService.name);

  constructor(
    private readonly catalog: CatalogService,
    private readonly router: DataSourceRouter,
    private readonly keyring: TenantKeyring,
  ) {}

  async provision(): Promise<{ database: string; created: boolean; migrations: string[] }> {
    const tenant = RequestContextStore.requireTenant();
    const placement = await this.catalog.getPlacementFresh(tenant, 'secure');
    const created = await DatabaseAdmin.ensureDatabase(placement.serverUrl, placement.database);
    const { applied } = await this.router.run((ds) => migrateDatabase(ds));
    await this.keyring.ensureDataKey();
    this.logger.log({ database: placement.database, created, applied }, 'tenant secure database ready');
    return { database: placement.database, created, migrations: applied };
  }

  async drop(): Promise<{ dropped: boolean }> {
    const tenant = RequestContextStore.requireTenant();
    const placement = await this.catalog.getPlacementFresh(tenant, 'secure').catch(() => null);
    if (!placement) return { dropped: false };
    await this.router.releaseTenant(tenant);
    this.keyring.forget(tenant);
    const dropped = await DatabaseAdmin.dropDatabase(placement.serverUrl, placement.database);
    this.logger.log({ database: placement.database, dropped }, 'tenant secure database dropped');
    return { dropped };
  }
}
