import { describe, expect, it } from '@jest/globals';
import { AeadError, MasterKeyring, open, randomKey, seal } from '#polystore/platform';
import { deriveTenantKeys } from '../src/crypto/tenant-keyring.service.js';
import { TenantKeyWrapper } from '../src/crypto/tenant-key-wrap.util.js';
import { openCustomer, resealWithOwnKey, sealCustomer } from '../src/customers/customer-cipher.util.js';
import { CustomerKeyScheme } from '../src/customers/customer-key.util.js';
import type { CustomerEntity } from '../src/customers/customer.entity.js';
import { SecureStoreErrorCode } from '../src/secure-store.exception.js';

const TENANT = 'acme';
const ID = '3c2f0a52-8a0e-4b8e-9f5e-0d8c1f1e2a11';
const OTHER_ID = '9a1b7c33-1d2e-4f5a-8b6c-7d8e9f0a1b2c';
const FIELDS = { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 0000' };

/** A stored row as the repository reads it: the sealed row with its wrapped key joined in. */
function stored(
  sealed: ReturnType<typeof sealCustomer>,
  wrappedKey: Buffer | null = sealed.wrappedKey,
): CustomerEntity {
  return {
    ...sealed.row,
    createdAt: new Date('2026-12-07T00:00:00Z'),
    customerKey: wrappedKey ? { customerId: sealed.row.id, wrappedKey, createdAt: new Date() } : null,
  };
}

const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('secure-store - customer keys (crypto-shredding)', () => {
  const keys = deriveTenantKeys(TENANT, 1, randomKey());

  it('customer keys - a sealed customer opens with its own key, and not with the tenant field key', () => {
    const sealed = sealCustomer(keys, ID, FIELDS);
    expect(sealed.row.keyScheme).toBe(CustomerKeyScheme.CUSTOMER_KEY);
    expect(openCustomer(keys, stored(sealed))).toMatchObject({ id: ID, ...FIELDS });
    expect(() => open(keys.fields, sealed.row.nameCt, `${TENANT}:customers:${ID}:name`)).toThrow(AeadError);
  });

  it('customer keys - without its key row (erased) a customer does not open: INTEGRITY_FAILURE, no fallback to the tenant key', () => {
    const sealed = sealCustomer(keys, ID, FIELDS);
    expect(codeOf(() => openCustomer(keys, stored(sealed, null)))).toBe(SecureStoreErrorCode.INTEGRITY_FAILURE);
  });

  it("customer keys - a wrapped key is bound to its customer and tenant: another customer's key or tenant does not open it", () => {
    const mine = sealCustomer(keys, ID, FIELDS);
    const other = sealCustomer(keys, OTHER_ID, FIELDS);
    expect(codeOf(() => openCustomer(keys, stored(mine, other.wrappedKey)))).toBe(
      SecureStoreErrorCode.INTEGRITY_FAILURE,
    );
    expect(codeOf(() => openCustomer({ ...keys, label: 'globex' }, stored(mine)))).toBe(
      SecureStoreErrorCode.INTEGRITY_FAILURE,
    );
    expect(codeOf(() => openCustomer(deriveTenantKeys(TENANT, 1, randomKey()), stored(mine)))).toBe(
      SecureStoreErrorCode.INTEGRITY_FAILURE,
    );
  });

  it('customer keys - a row sealed with the tenant field key (scheme 1) still opens, and is sealed again under a key of its own', () => {
    const current = sealCustomer(keys, ID, FIELDS).row;
    const legacyRow = legacyCustomer(keys.fields, current);
    expect(openCustomer(keys, legacyRow)).toMatchObject(FIELDS);

    const resealed = resealWithOwnKey(keys, legacyRow);
    expect(resealed.row.keyScheme).toBe(CustomerKeyScheme.CUSTOMER_KEY);
    expect(resealed.row.emailBidx).toEqual(current.emailBidx);
    expect(openCustomer(keys, stored(resealed))).toMatchObject(FIELDS);
    expect(() => open(keys.fields, resealed.row.emailCt, `${TENANT}:customers:${ID}:email`)).toThrow(AeadError);
  });

  it('customer keys - an unknown key scheme fails closed', () => {
    const sealed = sealCustomer(keys, ID, FIELDS);
    expect(codeOf(() => openCustomer(keys, { ...stored(sealed), keyScheme: 3 }))).toBe(
      SecureStoreErrorCode.INTEGRITY_FAILURE,
    );
  });
});

describe('secure-store - tenant key wrapping under a versioned master key', () => {
  const v1 = Buffer.alloc(32, 1);
  const v2 = Buffer.alloc(32, 2);
  const both = new TenantKeyWrapper(
    new MasterKeyring([
      { version: 2, key: v2 },
      { version: 1, key: v1 },
    ]),
  );
  const onlyV1 = new TenantKeyWrapper(MasterKeyring.single(v1));
  const onlyV2 = new TenantKeyWrapper(new MasterKeyring([{ version: 2, key: v2 }]));

  it('tenant keys - a key wrapped by v1 opens under v2,v1; wrapped again it records v2 and opens with v2 alone', () => {
    const dataKey = randomKey();
    const old = { id: 1, ...onlyV1.wrap(TENANT, 1, dataKey) };
    expect(old.kekVersion).toBe(1);
    expect(both.unwrap(TENANT, old)).toEqual(dataKey);
    const rewrapped = { id: 1, ...both.wrap(TENANT, 1, both.unwrap(TENANT, old)) };
    expect(rewrapped.kekVersion).toBe(2);
    expect(onlyV2.unwrap(TENANT, rewrapped)).toEqual(dataKey);
    expect(codeOf(() => onlyV2.unwrap(TENANT, old))).toBe(SecureStoreErrorCode.MASTER_KEY_VERSION_MISSING);
  });

  it('tenant keys - a recorded version, tenant or id changed does not open (INTEGRITY_FAILURE)', () => {
    const wrapped = { id: 1, ...both.wrap(TENANT, 1, randomKey()) };
    expect(codeOf(() => both.unwrap(TENANT, { ...wrapped, kekVersion: 1 }))).toBe(
      SecureStoreErrorCode.INTEGRITY_FAILURE,
    );
    expect(codeOf(() => both.unwrap('globex', wrapped))).toBe(SecureStoreErrorCode.INTEGRITY_FAILURE);
    expect(codeOf(() => both.unwrap(TENANT, { ...wrapped, id: 2 }))).toBe(SecureStoreErrorCode.INTEGRITY_FAILURE);
  });
});

/** `row` as written before customer keys: the same fields under the tenant's field subkey, scheme 1, no key row. */
function legacyCustomer(fieldKey: Buffer, row: ReturnType<typeof sealCustomer>['row']): CustomerEntity {
  const aad = (field: string) => `${TENANT}:customers:${row.id}:${field}`;
  return {
    ...row,
    nameCt: seal(fieldKey, FIELDS.name, aad('name')),
    emailCt: seal(fieldKey, FIELDS.email, aad('email')),
    phoneCt: seal(fieldKey, FIELDS.phone, aad('phone')),
    keyScheme: CustomerKeyScheme.TENANT_FIELD_KEY,
    createdAt: new Date('2026-12-07T00:00:00Z'),
    customerKey: null,
  };
}
