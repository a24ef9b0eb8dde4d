import { AeadError, open, seal } from '#polystore/platform';
import type { CustomerView } from '#polystore/messaging';
import { emailBlindIndex, type TenantKeys } from '../crypto/tenant-keyring.service.js';
import { SecureStoreException } from '../secure-store.exception.js';
import type { CustomerEntity } from './customer.entity.js';

/** Plain customer fields, as received. */
export interface CustomerFields {
  readonly name: string;
  readonly email: string;
  readonly phone: string | null;
}

const aad = (tenant: string, id: string, field: string) => `${tenant}:customers:${id}:${field}`;

/** Seals a customer's fields into a row; nothing in the row is readable without the tenant key. */
export function sealCustomer(
  keys: TenantKeys,
  tenant: string,
  id: string,
  fields: CustomerFields,
): Omit<CustomerEntity, 'createdAt'> {
  return {
    id,
    nameCt: seal(keys.fields, fields.name, aad(tenant, id, 'name')),
    emailCt: seal(keys.fields, fields.email, aad(tenant, id, 'email')),
    phoneCt: fields.phone === null ? null : seal(keys.fields, fields.phone, aad(tenant, id, 'phone')),
    emailBidx: emailBlindIndex(keys, fields.email),
    keyId: keys.keyId,
  };
}

/** Opens a customer row; `INTEGRITY_FAILURE` if any field was tampered with or moved. */
export function openCustomer(keys: TenantKeys, tenant: string, row: CustomerEntity): CustomerView {
  try {
    return {
      id: row.id,
      name: open(keys.fields, row.nameCt, aad(tenant, row.id, 'name')).toString('utf8'),
      email: open(keys.fields, row.emailCt, aad(tenant, row.id, 'email')).toString('utf8'),
      phone: row.phoneCt ? open(keys.fields, row.phoneCt, aad(tenant, row.id, 'phone')).toString('utf8') : null,
      createdAt: row.createdAt.toISOString(),
    };
  } catch (error) {
    if (error instanceof AeadError) throw SecureStoreException.integrityFailure(`customer ${row.id}`);
    throw error;
  }
}
