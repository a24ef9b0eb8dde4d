import { Inject, Injectable } from '@nestjs/common';
import type { TenantSlug } from '#polystore/tenancy';
import { DataSource } from 'typeorm';
import { CatalogException } from './catalog.exception.js';
import { CatalogService } from './catalog.service.js';
import { SYSTEM_DATA_SOURCE } from './catalog.tokens.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { TenantEntity } from './entities/tenant.entity.js';

/** A tenant deleted and kept until `purgeAfter`, under a slug moved aside. */
export interface RetiredTenant {
  readonly id: string;
  /** The slug moved aside (`d-<id hex>`): the stores reach its data under it until the purge. */
  readonly slug: TenantSlug;
  readonly formerSlug: string;
  readonly deletedAt: Date;
  readonly purgeAfter: Date;
}

const UNIQUE_VIOLATION = '23505';

/** The slug a deleted tenant is kept under: unique, a valid slug, and never one a user can pick. */
export function retiredSlugOf(tenantId: string): TenantSlug {
  return `d-${tenantId.replace(/-/g, '')}` as TenantSlug;
}

/**
 * Deleting a tenant with a grace period, and undoing it. `retire` frees the slug at once (moved
 * aside to {@link retiredSlugOf}), deletes the tenant's API keys and marks it `deleted` until
 * `purgeAfter`, in one transaction; its data stays where it is, reachable only under the aside
 * slug (no key opens it). `restore` brings it back, under its own slug or another one. The
 * purge itself (dropping the data in every store, then the catalog row) is the caller's.
 */
@Injectable()
export class TenantRetirementService {
  constructor(
    @Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource,
    private readonly catalog: CatalogService,
  ) {}

  /** Retires the tenant now known as `slug`; `TENANT_NOT_FOUND` if there is none (or it is deleted already). */
  async retire(slug: TenantSlug, purgeAfter: Date): Promise<RetiredTenant> {
    const retired = await this.db.transaction(async (manager) => {
      const tenant = await manager.findOne(TenantEntity, { where: { slug }, lock: { mode: 'pessimistic_write' } });
      if (!tenant || tenant.status === 'deleted') throw CatalogException.tenantNotFound(slug);
      const aside = retiredSlugOf(tenant.id);
      await manager.update(
        TenantEntity,
        { id: tenant.id },
        { slug: aside, formerSlug: slug, status: 'deleted', deletedAt: () => 'now()', purgeAfter },
      );
      await manager.delete(ApiKeyEntity, { tenantId: tenant.id });
      return manager.findOneByOrFail(TenantEntity, { id: tenant.id });
    });
    this.catalog.announceTenantChanged(slug);
    this.catalog.announceTenantChanged(retired.slug as TenantSlug);
    return retiredOf(retired);
  }

  /**
   * Makes the deleted tenant `id` active again under `slug` (its former one by default), while
   * its grace period runs (by the database's clock, so a purge that found it due never meets a
   * restored tenant): its data is where it was. `TENANT_NOT_FOUND` if no deleted tenant has this
   * id within its grace period (never deleted, purge due or done), `TENANT_EXISTS` if the slug is
   * taken.
   */
  async restore(id: string, slug?: TenantSlug): Promise<TenantSlug> {
    const restored = await this.db
      .transaction(async (manager) => {
        const rows: Array<{ slug: TenantSlug; former_slug: TenantSlug }> = await manager.query(
          `SELECT slug, former_slug FROM tenants
           WHERE id = $1 AND status = 'deleted' AND purge_after > now() FOR UPDATE`,
          [id],
        );
        const tenant = rows[0];
        if (!tenant) throw CatalogException.tenantNotFound(id);
        const target = slug ?? tenant.former_slug;
        await manager.update(
          TenantEntity,
          { id },
          { slug: target, formerSlug: null, status: 'active', deletedAt: null, purgeAfter: null },
        );
        return { aside: tenant.slug, target };
      })
      .catch((error: unknown) => {
        if ((error as { driverError?: { code?: string } }).driverError?.code === UNIQUE_VIOLATION)
          throw CatalogException.tenantExists(slug ?? 'its former slug');
        throw error;
      });
    this.catalog.announceTenantChanged(restored.aside);
    this.catalog.announceTenantChanged(restored.target);
    return restored.target;
  }

  /** Ends the grace period of the deleted tenant `id` now (an operator's purge): it can no longer be restored. */
  async endGrace(id: string): Promise<RetiredTenant> {
    const result = await this.db
      .createQueryBuilder()
      .update(TenantEntity)
      .set({ purgeAfter: () => 'LEAST(purge_after, now())' })
      .where(`id = :id AND status = 'deleted'`, { id })
      .execute();
    const retired = result.affected ? await this.find(id) : null;
    if (!retired) throw CatalogException.tenantNotFound(id);
    return retired;
  }

  /** The deleted tenant `id`, or null (never deleted, restored, or purged). */
  async find(id: string): Promise<RetiredTenant | null> {
    const tenant = await this.db.getRepository(TenantEntity).findOneBy({ id, status: 'deleted' });
    return tenant ? retiredOf(tenant) : null;
  }

  /** Deleted tenants whose grace period is over, the oldest first. */
  async due(limit: number): Promise<RetiredTenant[]> {
    const rows = await this.db
      .getRepository(TenantEntity)
      .createQueryBuilder('t')
      .where(`t.status = 'deleted' AND t.purge_after <= now()`)
      .orderBy('t.purge_after', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map(retiredOf);
  }
}

function retiredOf(row: TenantEntity): RetiredTenant {
  return {
    id: row.id,
    slug: row.slug as TenantSlug,
    formerSlug: row.formerSlug!,
    deletedAt: row.deletedAt!,
    purgeAfter: row.purgeAfter!,
  };
}
