import type { TenantSlug } from '#polystore/tenancy';
import type { ApiKeyScope } from './api-key-scope.js';
import type { TenantStatus } from './entities/tenant.entity.js';

/** A tenant as the catalog describes it. */
export interface TenantRecord {
  readonly id: string;
  readonly slug: TenantSlug;
  readonly name: string;
  readonly status: TenantStatus;
  readonly version: number;
  readonly createdAt: Date;
  /** What stores bind the tenant's ciphertexts to: immutable, unlike the slug (see `TenantEntity.keyLabel`). */
  readonly keyLabel: string;
}

/** Who presented an API key: the key's id (for audit), its tenant and what it may do. */
export interface ApiKeyPrincipal {
  readonly keyId: string;
  readonly tenant: TenantSlug;
  readonly scopes: readonly ApiKeyScope[];
  /** Refused from this instant on; null: never expires. */
  readonly expiresAt: Date | null;
}

/** An API key as listed: never its secret. */
export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  /** First characters of the secret, to recognise it. */
  readonly prefix: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  /** The key that replaced this one by rotation (this one works until `expiresAt`). */
  readonly replacedBy: string | null;
}

/** A key just issued: its view and its secret, shown this once. */
export interface IssuedApiKeyView extends ApiKeyView {
  readonly secret: string;
}
