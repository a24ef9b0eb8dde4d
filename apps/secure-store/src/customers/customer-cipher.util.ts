import { AeadError, open, seal } from '#polystore/platform';
import type { CustomerView } from '#polystore/messaging';
import { emailBlindIndex, type TenantKeys } from '../crypto/tenant-keyring.service.js';
import { SecureStoreException } from '../secure-store.exception.js';
import type { CustomerEntity } from './customer.entity.js';
import { CustomerKeyScheme, newCustomerKey, openCustomerKey } from './customer-key.util.js';

/** Plain customer fields, as received. */
export interface CustomerFields {
  readonly name: string;
  readonly email: string;
  readonly phone: string | null;
}

/** What a customer is stored as: its row and its own key, wrapped (both written in one transaction). */
export interface SealedCustomer {
  readonly row: Omit<CustomerEntity, 'createdAt' | 'customerKey'>;
  readonly wrappedKey: Buffer;
}

const aad = (tenant: string, id: string, field: string) => `${tenant}:customers:${id}:${field}`;

/**
 * Seals a customer's fields under a new key of its own, wrapped by the tenant key. Nothing in the
 * row is readable without that key, and nothing but the row's `customer_keys` entry holds it.
 */
export function sealCustomer(keys: TenantKeys, id: string, fields: CustomerFields): SealedCustomer {
  const { key, wrappedKey } = newCustomerKey(keys, id);
  return {
    row: {
      id,
      nameCt: seal(key, fields.name, aad(keys.label, id, 'name')),
      emailCt: seal(key, fields.email, aad(keys.label, id, 'email')),
      phoneCt: fields.phone === null ? null : seal(key, fields.phone, aad(keys.label, id, 'phone')),
      emailBidx: emailBlindIndex(keys, fields.email),
      keyId: keys.keyId,
      keyScheme: CustomerKeyScheme.CUSTOMER_KEY,
    },
    wrappedKey,
  };
}

/**
 * Opens a customer row with the key its `keyScheme` names: its own key (one extra AES-GCM
 * operation) or, for older rows, the tenant's field subkey. `INTEGRITY_FAILURE` if any field was
 * tampered with or moved, or the row's own key is missing.
 */
export function openCustomer(keys: TenantKeys, row: CustomerEntity): CustomerView {
  const key = fieldKeyOf(keys, row);
  try {
    return {
      id: row.id,
      name: open(key, row.nameCt, aad(keys.label, row.id, 'name')).toString('utf8'),
      email: open(key, row.emailCt, aad(keys.label, row.id, 'email')).toString('utf8'),
      phone: row.phoneCt ? open(key, row.phoneCt, aad(keys.label, row.id, 'phone')).toString('utf8') : null,
      createdAt: row.createdAt.toISOString(),
    };
  } catch (error) {
    if (error instanceof AeadError) throw SecureStoreException.integrityFailure(`customer ${row.id}`);
    throw error;
  }
}

/**
 * A row sealed with the tenant's field subkey, sealed again under a new key of its own (same id,
 * blind index and tenant key): what `keys upgrade-customers` writes so that erasing the customer
 * shreds it from then on.
 */
export function resealWithOwnKey(keys: TenantKeys, row: CustomerEntity): SealedCustomer {
  if (row.keyScheme !== CustomerKeyScheme.TENANT_FIELD_KEY)
    throw new Error(`customer ${row.id} is not sealed with the tenant field key`);
  const view = openCustomer(keys, row);
  return sealCustomer(keys, row.id, { name: view.name, email: view.email, phone: view.phone });
}

function fieldKeyOf(keys: TenantKeys, row: CustomerEntity): Buffer {
  switch (row.keyScheme) {
    case CustomerKeyScheme.CUSTOMER_KEY:
      if (!row.customerKey) throw SecureStoreException.integrityFailure(`key of customer ${row.id} is missing`);
      return openCustomerKey(keys, row.id, row.customerKey.wrappedKey);
    case CustomerKeyScheme.TENANT_FIELD_KEY:
      return keys.fields;
    default:
      throw SecureStoreException.integrityFailure(`customer ${row.id} has an unknown key scheme`);
  }
}
