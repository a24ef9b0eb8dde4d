import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../support/cli.js';
import type { HttpResponse } from '../support/http.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';

interface QuotaUsage {
  limit: number;
  source: 'tenant' | 'default';
  used: number | null;
}

interface Quotas {
  devices: QuotaUsage;
  customers: QuotaUsage;
  storage: QuotaUsage & { measuredAt: string | null; byStore: Record<string, number | null> };
}

/**
 * Per-tenant quotas (issue 17) through the gateway, on one stack: PostgreSQL, MariaDB, NATS, the
 * three stores. Tenants are fresh per case, so the cases do not depend on each other's counts.
 */
describe('per-tenant quotas: devices, customers, storage (e2e)', () => {
  let stack: TestStack;
  let a: TestTenant;
  let b: TestTenant;

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      parallelStart: true,
    });
    [a, b] = await Promise.all([stack.createTenant('qa'), stack.createTenant('qb')]);
  });

  afterAll(async () => {
    await stack?.close();
  });

  const call = <T = any>(t: TestTenant, method: string, path: string, body?: unknown, headers = {}) =>
    stack.request<T>({ method, path, body, tenant: t.slug, apiKey: t.apiKey, headers });

  const setQuotas = (t: TestTenant, body: unknown): Promise<HttpResponse<Quotas>> =>
    stack.admin<Quotas>('PUT', `/admin/tenants/${t.slug}/quotas`, body);

  let emails = 0;
  const customer = (t: TestTenant) =>
    call(t, 'POST', '/v1/customers', { name: 'Ada', email: `ada${++emails}@example.com` });

  const device = (t: TestTenant, idempotencyKey?: string) =>
    call(
      t,
      'POST',
      '/v1/devices',
      { name: 'meter', model: 'm1' },
      idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    );

  const rows = async (t: TestTenant, store: string, table: string): Promise<number> =>
    Number((await stack.tenantSql<{ n: string | number }>(t.slug, store, `SELECT count(*) AS n FROM ${table}`))[0]!.n);

  const registrationSagas = async (t: TestTenant): Promise<number> => {
    const database = new URL(TestServices.systemDbUrl).pathname.slice(1);
    const found = await pgQuery<{ n: string }>(
      `SELECT count(*)::text AS n FROM sagas WHERE tenant = $1 AND name = 'device-registration'`,
      [t.slug],
      database,
    );
    return Number(found[0]!.n);
  };

  const expectQuotaExceeded = (response: HttpResponse<any>, name: string, limit: number) => {
    expect(response.status).toBe(429);
    expect(response.body).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { name, limit } });
    expect(response.body.message).toContain(`${name} quota`);
    expect(response.body.message).toContain(String(limit));
    // Waiting lifts no quota: no Retry-After.
    expect(response.headers['retry-after']).toBeUndefined();
  };

  it('quotas - at the customers quota a create is 429 QUOTA_EXCEEDED, concurrent creates at the edge do not both pass, nothing is written past it', async () => {
    const set = await setQuotas(a, { customers: 3 });
    expect(set.status).toBe(200);
    expect(set.body.customers).toEqual({ limit: 3, source: 'tenant', used: 0 });
    expect((await customer(a)).status).toBe(201);

    const burst = await Promise.all(Array.from({ length: 6 }, () => customer(a)));
    expect(burst.filter((r) => r.status === 201)).toHaveLength(2);
    const refused = burst.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(4);
    for (const r of refused) expectQuotaExceeded(r, 'customers', 3);

    expect(await rows(a, 'secure', 'customers')).toBe(3);
    const mine = await call<Quotas>(a, 'GET', '/v1/quotas');
    expect(mine.status).toBe(200);
    expect(mine.body.customers).toEqual({ limit: 3, source: 'tenant', used: 3 });
    expect(mine.body.devices).toEqual({ limit: 0, source: 'default', used: 0 });
  });

  it('quotas - at the devices quota a registration is 429 before any saga starts; a repeat of a registered one still joins it', async () => {
    expect((await setQuotas(a, { devices: 2 })).status).toBe(200);
    const first = await device(a, 'meter-1');
    expect(first.status).toBe(201);

    const burst = await Promise.all([device(a), device(a), device(a)]);
    expect(burst.map((r) => r.status).sort()).toEqual([201, 429, 429]);
    for (const r of burst.filter((x) => x.status === 429)) expectQuotaExceeded(r, 'devices', 2);

    expect(await rows(a, 'reliable', 'devices')).toBe(2);
    expect(await registrationSagas(a)).toBe(2);
    // The same Idempotency-Key is the registration already counted: its outcome, not a refusal.
    const repeat = await device(a, 'meter-1');
    expect(repeat.status).toBe(201);
    expect(repeat.body.id).toBe(first.body.id);
  });

  it('quotas - raising a quota through the admin API lets writes through again', async () => {
    expectQuotaExceeded(await customer(a), 'customers', 3);
    expectQuotaExceeded(await device(a), 'devices', 2);
    const raised = await setQuotas(a, { customers: 4, devices: null });
    expect(raised.body.customers).toEqual({ limit: 4, source: 'tenant', used: 3 });
    expect(raised.body.devices).toEqual({ limit: 0, source: 'default', used: 2 });
    expect((await customer(a)).status).toBe(201);
    expect((await device(a)).status).toBe(201);
    expectQuotaExceeded(await customer(a), 'customers', 4);
  });

  it("quotas - a quota set for one tenant does not touch another's", async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => customer(b)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const theirs = await call<Quotas>(b, 'GET', '/v1/quotas');
    expect(theirs.body.customers).toEqual({ limit: 0, source: 'default', used: 5 });
    const viaAdmin = await stack.admin<Quotas>('GET', `/admin/tenants/${a.slug}/quotas`);
    expect(viaAdmin.body.customers).toEqual({ limit: 4, source: 'tenant', used: 4 });
  });

  it('quotas - bad input to the admin route is a 400 naming the field, and changes nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ devices: -1 }, 'devices'],
      [{ customers: 1.5 }, 'customers'],
      [{ storageBytes: '10GB' }, 'storageBytes'],
      [{ devices: '5' }, 'devices'],
      [{ storage: 5 }, 'storage'],
    ];
    for (const [body, field] of cases) {
      const response = await stack.admin('PUT', `/admin/tenants/${a.slug}/quotas`, body);
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.text).toContain(field);
    }
    expect((await stack.admin('PUT', '/admin/tenants/e2e-no-such-tenant/quotas', { devices: 1 })).status).toBe(404);
    const unchanged = await stack.admin<Quotas>('GET', `/admin/tenants/${a.slug}/quotas`);
    expect(unchanged.body.customers.limit).toBe(4);
    expect(unchanged.body.devices).toMatchObject({ limit: 0, source: 'default' });
    // The tenant API has no admin route.
    expect((await call(a, 'PUT', '/v1/quotas', { customers: 100 })).status).toBe(404);
  });

  it('quotas - over the storage quota writes are 429 naming storage, reads and deletes still work', async () => {
    const kept = await customer(b);
    const set = await setQuotas(b, { storageBytes: 1 });
    expect(set.status).toBe(200);
    expect(set.body.storage.used).toBeGreaterThan(1);
    expect(Object.keys(set.body.storage.byStore).sort()).toEqual(['edge', 'reliable', 'secure']);
    expect(set.body.storage.measuredAt).not.toBeNull();

    expectQuotaExceeded(await customer(b), 'storage', 1);
    expectQuotaExceeded(await device(b), 'storage', 1);
    expect(await registrationSagas(b)).toBe(0);
    expect(await rows(b, 'secure', 'customers')).toBe(6);
    expect((await call(b, 'GET', `/v1/customers/${kept.body.id}`)).status).toBe(200);
    expect((await call(b, 'GET', '/v1/devices')).status).toBe(200);
    expect((await call(b, 'DELETE', `/v1/customers/${kept.body.id}`)).status).toBe(204);

    expect((await setQuotas(b, { storageBytes: 0 })).body.storage).toMatchObject({ limit: 0, source: 'tenant' });
    expect((await customer(b)).status).toBe(201);
  });

  it('quotas - set with the CLI, and kept across a gateway restart', async () => {
    const run = (...args: string[]) => runCli(args, stack.cliEnv());
    const set = await run('tenants', 'quota', b.slug, '--customers', '6', '--storage', 'unlimited', '--json');
    expect(set).toMatchObject({ code: 0 });
    expect(JSON.parse(set.stdout)).toMatchObject({ customers: { limit: 6, source: 'tenant', used: 6 } });
    const bad = await run('tenants', 'quota', b.slug, '--devices', 'lots');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--devices');

    await stack.app('gateway').stop();
    await stack.startApp('gateway');
    expectQuotaExceeded(await customer(b), 'customers', 6);
    expectQuotaExceeded(await customer(a), 'customers', 4);
    expect((await call<Quotas>(a, 'GET', '/v1/quotas')).body.customers).toEqual({
      limit: 4,
      source: 'tenant',
      used: 4,
    });
  });
});
