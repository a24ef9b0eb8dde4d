import { TENANT_SLUG_PATTERN } from '#polystore/platform';
import { TenancyException } from './tenancy.exception.js';

declare const brand: unique symbol;

/**
 * A tenant identifier that has passed validation (`TENANT_SLUG_PATTERN`).
 * Only {@link parseTenantSlug} and {@link isTenantSlug} produce one, so a value of this type
 * is always safe to use in a cache key, a NATS header or a database-name rule.
 */
export type TenantSlug = string & { readonly [brand]: 'TenantSlug' };

/** The slug rule (defined once, in `libs/platform`), exported for documentation and DTO validation. */
export { TENANT_SLUG_PATTERN };

/** Type guard for {@link TenantSlug}. */
export function isTenantSlug(value: unknown): value is TenantSlug {
  return typeof value === 'string' && TENANT_SLUG_PATTERN.test(value);
}

/** Returns `value` as a {@link TenantSlug}, or throws `INVALID_TENANT`. */
export function parseTenantSlug(value: unknown): TenantSlug {
  if (!isTenantSlug(value)) throw TenancyException.invalidTenant();
  return value;
}
