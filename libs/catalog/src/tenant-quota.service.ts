import { Inject, Injectable, Logger } from '@nestjs/common';
import type { TenantSlug } from '#polystore/tenancy';
import { DataSource, type EntityManager } from 'typeorm';
import { CatalogException } from './catalog.exception.js';
import { CatalogService } from './catalog.service.js';
import { CATALOG_OPTIONS, SYSTEM_DATA_SOURCE, type CatalogOptions } from './catalog.tokens.js';
import { TenantEntity } from './entities/tenant.entity.js';
import { catalogCache } from './internal/catalog-cache.js';
import type { TtlCache } from './internal/ttl-cache.js';

/** A tenant's own quota limits: null means "the deployment's default", 0 unlimited. */
export interface QuotaOverrides {
  readonly devices: number | null;
  readonly customers: number | null;
  readonly storageBytes: number | null;
}

/** A change of a tenant's limits: a field left out stays as it is; null goes back to the default. */
export type QuotaOverridesPatch = Partial<QuotaOverrides>;

/** The bytes a tenant's data took, in all stores and in each (null: the store gives no figure), and when. */
export interface StorageMeasurement {
  readonly bytes: number;
  readonly byStore: Readonly<Record<string, number | null>>;
  readonly measuredAt: Date;
}

interface QuotaRow {
  tenant_id: string;
  devices: string | null;
  customers: string | null;
  storage_bytes: string | null;
}

const NO_OVERRIDES: QuotaOverrides = { devices: null, customers: null, storageBytes: null };

/**
 * Per-tenant quotas in the catalog (`tenant_quotas`, `tenant_storage`), keyed by the tenant's
 * immutable id. Limits are read through a cache (like tenants: dropped in every process by
 * `catalog.tenant.changed`, which {@link set} publishes; served stale while the database is down);
 * storage measurements are read and written as they are (the gateway keeps its own copy).
 */
@Injectable()
export class TenantQuotaService {
  private readonly logger = new Logger(TenantQuotaService.name);
  private readonly limits: TtlCache<string, QuotaOverrides | null>;

  constructor(
    @Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource,
    @Inject(CATALOG_OPTIONS) options: CatalogOptions,
    private readonly catalog: CatalogService,
  ) {
    this.limits = catalogCache('quota', options, this.logger);
    catalog.onTenantChanged((tenant) => this.limits.delete(tenant));
  }

  /** The tenant's own limits (all null when it has none); `TENANT_NOT_FOUND` for no tenant with this slug. */
  async overrides(slug: TenantSlug): Promise<QuotaOverrides> {
    const found = await this.limits.get(slug, async () => {
      const rows: Array<Partial<QuotaRow>> = await this.db.query(
        `SELECT q.devices, q.customers, q.storage_bytes
           FROM tenants t LEFT JOIN tenant_quotas q ON q.tenant_id = t.id
          WHERE t.slug = $1`,
        [slug],
      );
      return rows[0] ? overridesOf(rows[0]) : null;
    });
    if (!found) throw CatalogException.tenantNotFound(slug);
    return found;
  }

  /**
   * Changes the tenant's limits (fields of `patch` only) in one transaction and announces it, so
   * every gateway applies them to its next request. `TENANT_NOT_FOUND` for an unknown or deleted tenant.
   */
  async set(slug: TenantSlug, patch: QuotaOverridesPatch): Promise<QuotaOverrides> {
    const updated = await this.db.transaction(async (manager) => {
      const tenantId = await this.tenantId(manager, slug);
      const rows: QuotaRow[] = await manager.query(
        'SELECT tenant_id, devices, customers, storage_bytes FROM tenant_quotas WHERE tenant_id = $1 FOR UPDATE',
        [tenantId],
      );
      const next = { ...(rows[0] ? overridesOf(rows[0]) : NO_OVERRIDES), ...patch };
      await manager.query(
        `INSERT INTO tenant_quotas (tenant_id, devices, customers, storage_bytes, updated_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (tenant_id) DO UPDATE
            SET devices = EXCLUDED.devices, customers = EXCLUDED.customers,
                storage_bytes = EXCLUDED.storage_bytes, updated_at = now()`,
        [tenantId, next.devices, next.customers, next.storageBytes],
      );
      return next;
    });
    this.catalog.announceTenantChanged(slug);
    return updated;
  }

  /** The tenant's last storage measurement, or null (never measured). */
  async storage(tenantId: string): Promise<StorageMeasurement | null> {
    const rows: Array<{ bytes: string; by_store: Record<string, number | null>; measured_at: Date }> =
      await this.db.query('SELECT bytes, by_store, measured_at FROM tenant_storage WHERE tenant_id = $1', [tenantId]);
    const row = rows[0];
    return row ? { bytes: Number(row.bytes), byStore: row.by_store, measuredAt: row.measured_at } : null;
  }

  /** Keeps a measurement (the newest wins; a tenant deleted meanwhile keeps nothing). */
  async recordStorage(tenantId: string, measurement: StorageMeasurement): Promise<void> {
    await this.db.query(
      `INSERT INTO tenant_storage (tenant_id, bytes, by_store, measured_at)
       SELECT id, $2, $3, $4 FROM tenants WHERE id = $1
       ON CONFLICT (tenant_id) DO UPDATE
          SET bytes = EXCLUDED.bytes, by_store = EXCLUDED.by_store, measured_at = EXCLUDED.measured_at
        WHERE tenant_storage.measured_at <= EXCLUDED.measured_at`,
      [tenantId, measurement.bytes, JSON.stringify(measurement.byStore), measurement.measuredAt],
    );
  }

  /** The id of the tenant named `slug`; a deleted tenant (its moved-aside slug) has no quotas to set. */
  private async tenantId(manager: EntityManager, slug: TenantSlug): Promise<string> {
    const tenant = await manager.findOne(TenantEntity, { where: { slug }, select: { id: true, status: true } });
    if (!tenant || tenant.status === 'deleted') throw CatalogException.tenantNotFound(slug);
    return tenant.id;
  }
}

function overridesOf(row: Partial<QuotaRow>): QuotaOverrides {
  const value = (v: string | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return { devices: value(row.devices), customers: value(row.customers), storageBytes: value(row.storage_bytes) };
}
