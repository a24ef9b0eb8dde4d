import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TEST_MASTER_KEY, TestStack, type TestTenant } from '../support/stack.js';

/** A second master key version (base64 of 32 bytes), used by this suite only. */
const V2 = Buffer.alloc(32, 11).toString('base64');
const V1 = TEST_MASTER_KEY;

/**
 * A versioned MASTER_KEY against the real secure store and gateway: tenants provisioned under a
 * bare key (version 1) keep opening when a new current version is added in front, new tenants'
 * data keys are wrapped by the new version and say so, and a tenant whose version is no longer
 * configured gets a coded error. Each stage restarts the secure store process with another
 * MASTER_KEY.
 *
 * Dropping v1 also re-derives the secure store's own key (from the lowest version): this test
 * server trusts its logins and the test servers' URLs hold no password, so that goes unnoticed
 * here; in production retiring a version is the rotation issue 17 brings.
 */
describe('master key versions - MASTER_KEY v2:<new>,v1:<old> (e2e, real processes)', () => {
  let stack: TestStack;
  /** Provisioned under the bare key, in a schema of the shared database and in a database of its own. */
  let v1Tenants: Array<{ tenant: TestTenant; customerId: string; customer: unknown }>;
  let v2Tenant: { tenant: TestTenant; customerId: string; customer: unknown };

  const call = (t: TestTenant, method: string, path: string, body?: unknown) =>
    stack.request({ method, path, body, tenant: t.slug, apiKey: t.apiKey });

  async function withCustomer(tenant: TestTenant) {
    const created = await call(tenant, 'POST', '/v1/customers', {
      name: `Ada ${tenant.slug}`,
      email: `ada@${tenant.slug}.example`,
    });
    expect(created.status).toBe(201);
    return { tenant, customerId: created.body.id as string, customer: created.body as unknown };
  }

  const kekVersions = async (t: TestTenant) =>
    (
      await stack.tenantSql<{ id: number; kek_version: number }>(
        t.slug,
        'secure',
        'SELECT id, kek_version FROM tenant_keys',
      )
    ).map((row) => ({ id: row.id, kekVersion: row.kek_version }));

  /** Stops the secure store and starts a new process of it with `masterKey`. */
  async function restartSecureStore(masterKey: string): Promise<void> {
    await stack.app('secure-store').stop();
    await stack.startApp('secure-store', { MASTER_KEY: masterKey });
  }

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['secure-store', 'gateway'] });
    const inSchema = await stack.createTenant('mk1s');
    const inDatabase = await stack.createTenant('mk1d', [{ store: 'secure', kind: 'database' }]);
    v1Tenants = [await withCustomer(inSchema), await withCustomer(inDatabase)];
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  }, 120_000);

  it('master key versions - under a bare MASTER_KEY, data keys record version 1 (schema and database placements)', async () => {
    expect((await stack.placement(v1Tenants[0]!.tenant.slug, 'secure')).kind).toBe('schema');
    expect((await stack.placement(v1Tenants[1]!.tenant.slug, 'secure')).kind).toBe('database');
    for (const { tenant } of v1Tenants) expect(await kekVersions(tenant)).toEqual([{ id: 1, kekVersion: 1 }]);
  });

  it('master key versions - with v2:<new>,v1:<old>, v1 tenants still decrypt and a new tenant records version 2', async () => {
    await restartSecureStore(`v2:${V2},v1:${V1}`);
    // The gateway takes the list too (its derived keys come from v1, as before).
    await stack.app('gateway').stop();
    await stack.startApp('gateway', { MASTER_KEY: `v2:${V2},v1:${V1}` });

    for (const { tenant, customerId, customer } of v1Tenants) {
      const read = await call(tenant, 'GET', `/v1/customers/${customerId}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(customer);
    }
    v2Tenant = await withCustomer(await stack.createTenant('mk2'));
    expect(await kekVersions(v2Tenant.tenant)).toEqual([{ id: 1, kekVersion: 2 }]);
    expect((await call(v2Tenant.tenant, 'GET', `/v1/customers/${v2Tenant.customerId}`)).body).toEqual(
      v2Tenant.customer,
    );
  }, 120_000);

  it('master key versions - with only v2, a v1 tenant gets MASTER_KEY_VERSION_MISSING (503, no data) and the v2 tenant still works', async () => {
    await restartSecureStore(`v2:${V2}`);

    for (const { tenant, customerId, customer } of v1Tenants) {
      const read = await call(tenant, 'GET', `/v1/customers/${customerId}`);
      expect(read.status).toBe(503);
      expect(read.body).toMatchObject({
        code: 'MASTER_KEY_VERSION_MISSING',
        message: 'tenant key wrapped by master key v1, which is not configured',
      });
      expect(read.text).not.toContain((customer as { name: string }).name);
    }
    const read = await call(v2Tenant.tenant, 'GET', `/v1/customers/${v2Tenant.customerId}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(v2Tenant.customer);
    expect(stack.app('secure-store').isRunning).toBe(true);
  }, 120_000);

  it('master key versions - back on the bare old key, v1 tenants decrypt again and the v2 tenant gets MASTER_KEY_VERSION_MISSING', async () => {
    await restartSecureStore(V1);

    for (const { tenant, customerId, customer } of v1Tenants) {
      const read = await call(tenant, 'GET', `/v1/customers/${customerId}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(customer);
    }
    const read = await call(v2Tenant.tenant, 'GET', `/v1/customers/${v2Tenant.customerId}`);
    expect(read.status).toBe(503);
    expect(read.body).toMatchObject({ code: 'MASTER_KEY_VERSION_MISSING' });
    expect(read.body.message).toContain('master key v2');
  }, 120_000);
});
