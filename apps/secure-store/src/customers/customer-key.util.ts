import { AeadError, open, randomKey, seal } from '#polystore/platform';
import type { TenantKeys } from '../crypto/tenant-keyring.service.js';
import { SecureStoreException } from '../secure-store.exception.js';

/**
 * How a customer row's fields are sealed (`customers.key_scheme`). The marker is on the row, so a
 * reader never guesses: a row that says it has a key of its own and has none fails closed.
 */
export const CustomerKeyScheme = {
  /** Sealed with the tenant's field subkey (rows written before customers had keys of their own). */
  TENANT_FIELD_KEY: 1,
  /** Sealed with the customer's own key, stored wrapped in `customer_keys`: erasure shreds it. */
  CUSTOMER_KEY: 2,
} as const;
export type CustomerKeyScheme = (typeof CustomerKeyScheme)[keyof typeof CustomerKeyScheme];

/** A new customer key, in clear (to seal with) and wrapped (to store). */
export interface NewCustomerKey {
  readonly key: Buffer;
  readonly wrappedKey: Buffer;
}

const aad = (tenant: string, customerId: string, tenantKeyId: number) =>
  `customer-key:${tenant}:${customerId}:${tenantKeyId}`;

/** Draws a random key for customer `customerId` and wraps it under the tenant's key. */
export function newCustomerKey(keys: TenantKeys, customerId: string): NewCustomerKey {
  const key = randomKey();
  return { key, wrappedKey: seal(keys.customerKeys, key, aad(keys.label, customerId, keys.keyId)) };
}

/**
 * Opens customer `customerId`'s wrapped key; `INTEGRITY_FAILURE` when it does not open (another
 * tenant's or customer's key copied here, tampered, or wrapped by another tenant key).
 */
export function openCustomerKey(keys: TenantKeys, customerId: string, wrappedKey: Buffer): Buffer {
  try {
    return open(keys.customerKeys, wrappedKey, aad(keys.label, customerId, keys.keyId));
  } catch (error) {
    if (error instanceof AeadError) throw SecureStoreException.integrityFailure(`key of customer ${customerId}`);
    throw error;
  }
}
