import { Inject, Injectable, Logger } from '@nestjs/common';
import { CatalogAdminService, CatalogException, CatalogService, defaultDatabaseName } from '#polystore/catalog';
import { MessageClient } from '#polystore/messaging';
import { parseTenantSlug, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { StoreDirectory } from '../stores/store-directory.js';
import type { TenantDto } from './tenant.dto.js';

/**
 * Tenant lifecycle. Creating a tenant registers it (provisioning), has every store create and
 * migrate its database, activates it, and only then issues its API key. If any store fails,
 * what was created is dropped and the catalog entry removed before the error is returned.
 */
@Injectable()
export class TenantAdminService {
  private readonly logger = new Logger(TenantAdminService.name);

  constructor(
    private readonly catalog: CatalogService,
    private readonly admin: CatalogAdminService,
    private readonly messages: MessageClient,
    private readonly directory: StoreDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async create(slugInput: string, name: string): Promise<{ slug: string; apiKey: string }> {
    const slug = parseTenantSlug(slugInput);
    await this.admin.createTenant({
      slug,
      name,
      placements: this.directory.stores.map((s) => ({
        store: s.store,
        serverUrl: s.defaultServerUrl,
        database: defaultDatabaseName(s.store, slug),
      })),
    });
    try {
      for (const store of this.directory.stores)
        await this.asTenant(slug, () => this.messages.request(store.provision, {}));
      await this.admin.setStatus(slug, 'active');
      const key = await this.admin.issueApiKey(slug);
      this.logger.log({ tenant: slug }, 'tenant created');
      return { slug, apiKey: key.secret };
    } catch (error) {
      await this.undoCreate(slug);
      throw error;
    }
  }

  async list(): Promise<TenantDto[]> {
    const tenants = await this.admin.listTenants();
    return tenants.map((t) => ({
      slug: t.slug,
      name: t.name,
      status: t.status,
      createdAt: t.createdAt.toISOString(),
      placements: t.placements.map((p) => ({ ...p })),
    }));
  }

  /** Drops the tenant's databases in every store, then its catalog entry. Retry-safe. */
  async delete(slugInput: string): Promise<void> {
    const slug = parseTenantSlug(slugInput);
    if (!(await this.catalog.findTenant(slug))) throw CatalogException.tenantNotFound(slug);
    await this.admin.setStatus(slug, 'deleting');
    for (const store of [...this.directory.stores].reverse())
      await this.asTenant(slug, () => this.messages.request(store.drop, {}));
    await this.admin.deleteTenant(slug);
    this.logger.log({ tenant: slug }, 'tenant deleted');
  }

  private async undoCreate(slug: TenantSlug): Promise<void> {
    for (const store of [...this.directory.stores].reverse()) {
      await this.asTenant(slug, () => this.messages.request(store.drop, {})).catch((error: unknown) =>
        this.logger.error(
          { tenant: slug, store: store.store, code: (error as { code?: string }).code },
          'could not drop a half-created tenant database',
        ),
      );
    }
    await this.admin
      .deleteTenant(slug)
      .catch((error: unknown) =>
        this.logger.error({ tenant: slug, err: error }, 'could not remove a half-created tenant from the catalog'),
      );
  }

  private asTenant<T>(slug: TenantSlug, work: () => Promise<T>): Promise<T> {
    return runAsTenant(slug, work, this.config.PROVISION_TIMEOUT_MS);
  }
}
