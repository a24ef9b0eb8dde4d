import { Injectable } from '@nestjs/common';
import { CatalogException, CatalogService, TenantQuotaService, type QuotaOverridesPatch } from '#polystore/catalog';
import { newRequestContext, RequestContextStore, isTenantSlug, type TenantSlug } from '#polystore/tenancy';
import { QuotaService, type QuotaUsageView } from './quota.service.js';

/** The admin side of quotas: any active tenant's, by slug. */
@Injectable()
export class TenantQuotasAdmin {
  constructor(
    private readonly catalog: CatalogService,
    private readonly overrides: TenantQuotaService,
    private readonly quotas: QuotaService,
  ) {}

  /** The tenant's quotas and usage; `TENANT_NOT_FOUND` unless it is active. */
  async usage(slug: string): Promise<QuotaUsageView> {
    const tenant = await this.activeTenant(slug);
    return this.asTenant(tenant.slug, () => this.quotas.usage(tenant));
  }

  /** Sets the tenant's own limits (the fields given), then answers as {@link usage}. */
  async set(slug: string, patch: QuotaOverridesPatch): Promise<QuotaUsageView> {
    const tenant = await this.activeTenant(slug);
    const given = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    await this.overrides.set(tenant.slug, given);
    return this.asTenant(tenant.slug, () => this.quotas.usage(tenant));
  }

  private async activeTenant(slug: string): Promise<{ slug: TenantSlug; id: string }> {
    if (!isTenantSlug(slug)) throw CatalogException.tenantNotFound(slug);
    const record = await this.catalog.requireActiveTenant(slug);
    return { slug: record.slug, id: record.id };
  }

  /** Runs `work` for the tenant (its stores are asked as for its own requests), keeping the correlation id. */
  private asTenant<T>(tenant: TenantSlug, work: () => Promise<T>): Promise<T> {
    const current = RequestContextStore.current();
    return RequestContextStore.run(current ? { ...current, tenant } : newRequestContext({ tenant }), work);
  }
}
