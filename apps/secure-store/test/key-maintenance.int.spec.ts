import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DatabaseAdmin, DataSourceRouter, type StoreSchema } from '#polystore/data-router';
import { MasterKeyring, randomKey, seal } from '#polystore/platform';
import { parseTenantSlug, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import { uniqueToken } from '../../../test/support/ids.js';
import { dropDatabasesLike, pgQuery } from '../../../test/support/pg.js';
import { TestServices } from '../../../test/support/services.js';
import { SecureKeyMaintenance } from '../src/crypto/key-maintenance.service.js';
import { TenantKeyRepository } from '../src/crypto/tenant-key.repository.js';
import { deriveTenantKeys, emailBlindIndex, type TenantKeys } from '../src/crypto/tenant-keyring.service.js';
import { TenantKeyWrapper } from '../src/crypto/tenant-key-wrap.util.js';
import { openCustomer, sealCustomer } from '../src/customers/customer-cipher.util.js';
import { CustomerKeyScheme } from '../src/customers/customer-key.util.js';
import { CustomerRepository } from '../src/customers/customer.repository.js';
import { SecureStoreErrorCode } from '../src/secure-store.exception.js';
import { SecureInit1764201700000 } from '../src/migrations/1764201700000-secure-init.js';
import { SecureSaga1764204100000 } from '../src/migrations/1764204100000-secure-saga.js';
import { SecureIdempotency1764207100000 } from '../src/migrations/1764207100000-secure-idempotency.js';
import { SecureKekVersion1764207600000 } from '../src/migrations/1764207600000-secure-kek-version.js';
import { SECURE_SCHEMA } from '../src/secure.schema.js';
import { databasePerTenant } from '../../../test/support/db.js';

const V1 = Buffer.alloc(32, 21);
const V2 = Buffer.alloc(32, 22);
const ringV1 = MasterKeyring.single(V1);
const ringV2V1 = new MasterKeyring([
  { version: 2, key: V2 },
  { version: 1, key: V1 },
]);
const ringV2 = new MasterKeyring([{ version: 2, key: V2 }]);

const run = uniqueToken(6);
const dbPrefix = `ps_rt_${run}_keys_`;
const databaseOf = (tenant: string) => `${dbPrefix}${tenant.replace(/-/g, '_')}`;

/** The secure schema as it was before customer keys: its migrations up to the master key versions. */
const BEFORE_CUSTOMER_KEYS: StoreSchema = {
  ...SECURE_SCHEMA,
  migrations: [
    SecureInit1764201700000,
    SecureSaga1764204100000,
    SecureIdempotency1764207100000,
    SecureKekVersion1764207600000,
  ],
};

function routerFor(schema: StoreSchema): DataSourceRouter {
  return new DataSourceRouter({
    name: `keys-int-${uniqueToken(4)}`,
    resolvePlacement: databasePerTenant(databaseOf),
    schema,
    poolSize: 4,
    connectionBudget: 20,
    idleTtlMs: 60_000,
    maxWaiters: 1_000,
    acquireTimeoutMs: 10_000,
    breaker: { consecutiveFailures: 1_000, halfOpenAfterMs: 1 },
    applicationName: `keys-int-${run}`,
  });
}

const inTenant = <T>(tenant: TenantSlug, work: () => Promise<T>) => runAsTenant(tenant, work, 60_000);

/** These tenants are not in a catalog: their keys are bound to their slugs, as before key labels. */
const labelIsSlug = (tenant: TenantSlug) => Promise.resolve(tenant as string);

/** SQL on the tenant's database, outside the store's code (what a backup or an operator sees). */
const sql = <R extends Record<string, unknown>>(tenant: string, text: string, params: unknown[] = []) =>
  pgQuery<R>(text, params, databaseOf(tenant));

/** Provisions tenant key #1 (wrapped by `ring`'s current version); returns the data key's subkeys. */
async function provisionTenantKey(router: DataSourceRouter, tenant: TenantSlug, ring: MasterKeyring) {
  const dataKey = randomKey();
  const { wrappedKey, kekVersion } = new TenantKeyWrapper(ring).wrap(tenant, 1, dataKey);
  await inTenant(tenant, () => new TenantKeyRepository(router).insertFirst(wrappedKey, kekVersion));
  return { keys: deriveTenantKeys(tenant, 1, dataKey) };
}

/** Inserts a customer row as the secure store wrote them before customer keys (no `key_scheme` column yet). */
async function insertLegacyCustomer(tenant: string, keys: TenantKeys, n: number): Promise<string> {
  const id = randomUUID();
  const aad = (field: string) => `${tenant}:customers:${id}:${field}`;
  await sql(
    tenant,
    'INSERT INTO customers (id, name_ct, email_ct, phone_ct, email_bidx, key_id) VALUES ($1, $2, $3, NULL, $4, 1)',
    [
      id,
      seal(keys.fields, `Legacy ${n}`, aad('name')),
      seal(keys.fields, `legacy${n}@example.com`, aad('email')),
      emailBlindIndex(keys, `legacy${n}@example.com`),
    ],
  );
  return id;
}

describe('secure-store - customer keys and master key rewrap on the real PostgreSQL', () => {
  const upgradeTenant = parseTenantSlug('keys-upgrade');
  const rotateTenant = parseTenantSlug('keys-rotate');
  let router: DataSourceRouter;
  /** `rotateTenant`'s keys: provisioned under v1, as every tenant was before a second version. */
  let rotateKeys: TenantKeys;

  beforeAll(async () => {
    for (const tenant of [upgradeTenant, rotateTenant])
      await DatabaseAdmin.ensureDatabase(TestServices.postgresUrl, databaseOf(tenant));
    router = routerFor(SECURE_SCHEMA);
    await inTenant(rotateTenant, () => router.migrate());
    rotateKeys = (await provisionTenantKey(router, rotateTenant, ringV1)).keys;
  }, 60_000);

  afterAll(async () => {
    await router?.close();
    await dropDatabasesLike(dbPrefix);
  }, 60_000);

  it('customer keys - rows from before the migration read as sealed by the tenant key; upgrade-customers gives each a key of its own in batches, alongside an erasure', async () => {
    // The tenant as it was before this change: its rows sealed with the tenant's field subkey.
    const before = routerFor(BEFORE_CUSTOMER_KEYS);
    let keys: TenantKeys;
    try {
      await inTenant(upgradeTenant, () => before.migrate());
      keys = (await provisionTenantKey(before, upgradeTenant, ringV1)).keys;
    } finally {
      await before.close();
    }
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await insertLegacyCustomer(upgradeTenant, keys, n));

    await expect(inTenant(upgradeTenant, () => router.migrate())).resolves.toMatchObject({
      applied: [
        'SecureCustomerKeys1764208600000',
        'SecureAuditAppender1764209300000',
        'SecureCredentialLedger1764209400000',
        'SecureStepKeys1764209500000',
      ],
    });
    const customers = new CustomerRepository(router);
    const read = (id: string) => inTenant(upgradeTenant, () => customers.findById(id));
    for (const [n, id] of ids.entries()) {
      const row = (await read(id))!;
      expect(row.keyScheme).toBe(CustomerKeyScheme.TENANT_FIELD_KEY);
      expect(openCustomer(keys, row)).toMatchObject({ name: `Legacy ${n}` });
    }

    // Batches of 2 while customer 3 is erased: whatever the order, nothing of it is left.
    const maintenance = new SecureKeyMaintenance(router, ringV1, labelIsSlug);
    const [upgrade, erased] = await Promise.all([
      inTenant(upgradeTenant, () => maintenance.upgradeCustomers({ batchSize: 2 })),
      inTenant(upgradeTenant, () => router.transaction((m) => customers.delete(m, ids[3]!))),
    ]);
    expect(erased).toBe(true);
    expect([4, 5]).toContain(upgrade.upgraded);
    expect(upgrade.remaining).toBe(0);

    const rows = await sql<{ id: string; key_scheme: number; has_key: boolean }>(
      upgradeTenant,
      'SELECT c.id, c.key_scheme, k.customer_id IS NOT NULL AS has_key FROM customers c LEFT JOIN customer_keys k ON k.customer_id = c.id',
    );
    expect(rows.map((r) => r.id).sort()).toEqual(ids.filter((_, n) => n !== 3).sort());
    expect(rows.every((r) => r.key_scheme === CustomerKeyScheme.CUSTOMER_KEY && r.has_key)).toBe(true);
    expect(await sql(upgradeTenant, 'SELECT 1 FROM customer_keys WHERE customer_id = $1', [ids[3]])).toEqual([]);
    for (const [n, id] of ids.entries()) {
      if (n === 3) continue;
      expect(openCustomer(keys, (await read(id))!)).toMatchObject({ name: `Legacy ${n}` });
    }

    await expect(inTenant(upgradeTenant, () => maintenance.upgradeCustomers({ batchSize: 2 }))).resolves.toEqual({
      upgraded: 0,
      remaining: 0,
    });
  });

  it('customer keys - a customer row deleted by any statement takes its key with it (ON DELETE CASCADE)', async () => {
    const customers = new CustomerRepository(router);
    const id = randomUUID();
    await inTenant(rotateTenant, () =>
      router.transaction((m) =>
        customers.insert(m, sealCustomer(rotateKeys, id, { name: 'Cascade', email: 'c@example.com', phone: null })),
      ),
    );
    expect(await sql(rotateTenant, 'SELECT 1 FROM customer_keys WHERE customer_id = $1', [id])).toHaveLength(1);
    await sql(rotateTenant, 'DELETE FROM customers WHERE id = $1', [id]);
    expect(await sql(rotateTenant, 'SELECT 1 FROM customer_keys WHERE customer_id = $1', [id])).toEqual([]);
  });

  it('keys rotate - eight concurrent rewraps under v2,v1 rewrap the tenant key once, readers meanwhile always open the same key, and v2 alone opens it after', async () => {
    const repository = new TenantKeyRepository(router);
    const original = await inTenant(rotateTenant, () => repository.findActive());
    expect(original?.kekVersion).toBe(1);
    const dataKey = new TenantKeyWrapper(ringV1).unwrap(rotateTenant, original!);
    expect(deriveTenantKeys(rotateTenant, 1, dataKey).fields).toEqual(rotateKeys.fields);

    const reader = new TenantKeyWrapper(ringV2V1);
    let rotating = true;
    const opened: Buffer[] = [];
    const readers = Array.from({ length: 3 }, async () => {
      do {
        const row = await inTenant(rotateTenant, () => repository.findActive());
        opened.push(reader.unwrap(rotateTenant, row!));
      } while (rotating);
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        inTenant(rotateTenant, () => new SecureKeyMaintenance(router, ringV2V1, labelIsSlug).rewrapTenantKeys()),
      ),
    ).finally(() => (rotating = false));
    await Promise.all(readers);

    expect(results.reduce((n, r) => n + r.rewrapped, 0)).toBe(1);
    expect(results.reduce((n, r) => n + r.alreadyCurrent, 0)).toBe(7);
    expect(opened.length).toBeGreaterThanOrEqual(3);
    expect(opened.every((key) => key.equals(dataKey))).toBe(true);

    const after = await sql<{ kek_version: number }>(rotateTenant, 'SELECT kek_version FROM tenant_keys');
    expect(after).toEqual([{ kek_version: 2 }]);
    const row = await inTenant(rotateTenant, () => repository.findActive());
    expect(new TenantKeyWrapper(ringV2).unwrap(rotateTenant, row!)).toEqual(dataKey);
    await expect(
      inTenant(rotateTenant, () => new SecureKeyMaintenance(router, ringV2V1, labelIsSlug).rewrapTenantKeys()),
    ).resolves.toEqual({ rewrapped: 0, alreadyCurrent: 1, kekVersion: 2 });
  });

  it('keys rotate - a tenant key wrapped by a version MASTER_KEY does not list fails with MASTER_KEY_VERSION_MISSING and is left as it was', async () => {
    const before = await sql<{ wrapped_key: Buffer; kek_version: number }>(
      rotateTenant,
      'SELECT wrapped_key, kek_version FROM tenant_keys',
    );
    const ringV3 = new MasterKeyring([{ version: 3, key: Buffer.alloc(32, 23) }]);
    await expect(
      inTenant(rotateTenant, () => new SecureKeyMaintenance(router, ringV3, labelIsSlug).rewrapTenantKeys()),
    ).rejects.toMatchObject({ code: SecureStoreErrorCode.MASTER_KEY_VERSION_MISSING });
    expect(await sql(rotateTenant, 'SELECT wrapped_key, kek_version FROM tenant_keys')).toEqual(before);
  });
});
