import type { TenantSlug } from '#polystore/tenancy';
import type { TenantStatus } from './entities/tenant.entity.js';

/** A tenant as the catalog describes it. */
export interface TenantRecord {
  readonly id: string;
  readonly slug: TenantSlug;
  readonly name: string;
  readonly status: TenantStatus;
  readonly version: number;
  readonly createdAt: Date;
}

/** Who presented an API key: the key's id (for audit) and its tenant. */
export interface ApiKeyPrincipal {
  readonly keyId: string;
  readonly tenant: TenantSlug;
}
