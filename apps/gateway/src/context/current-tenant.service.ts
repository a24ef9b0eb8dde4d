import { Injectable } from '@nestjs/common';
import { CatalogService } from '#polystore/catalog';
import { RequestContextStore, type TenantSlug } from '#polystore/tenancy';

/** The request's tenant as both names: the routing slug and the immutable id. */
export interface TenantIdentity {
  readonly slug: TenantSlug;
  readonly id: string;
}

/**
 * The current request's tenant with its immutable id (from the catalog, cached). Whatever must
 * stay the tenant's own across a slug reused after a deletion (sagas, ids derived from an
 * `Idempotency-Key`) is keyed by the id, never by the slug.
 */
@Injectable()
export class CurrentTenant {
  constructor(private readonly catalog: CatalogService) {}

  async get(): Promise<TenantIdentity> {
    const slug = RequestContextStore.requireTenant();
    return { slug, id: (await this.catalog.requireActiveTenant(slug)).id };
  }
}
