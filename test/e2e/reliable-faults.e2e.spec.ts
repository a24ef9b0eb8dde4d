import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { Contracts, type MessageClient } from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { eventually } from '../support/eventually.js';
import { PrivateMariaDb } from '../support/mariadb-server.js';
import { stackClient } from '../support/nats.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { dropTenantDataByHand } from '../support/tenant-data.js';

describe('reliable store - MariaDB failures stay contained (e2e, a private MariaDB server)', () => {
  let mariadb: PrivateMariaDb;
  let stack: TestStack;
  let nc: NatsConnection;
  let client: MessageClient;
  let tenant: TestTenant;
  let deviceId: string;
  let customerId: string;

  beforeAll(async () => {
    mariadb = await PrivateMariaDb.create();
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'gateway'],
      parallelStart: true,
      env: {
        RELIABLE_SERVER_URL: mariadb.url,
        RELIABLE_DB_CIRCUIT_FAILURES: '2',
        RELIABLE_DB_CIRCUIT_HALF_OPEN_MS: '500',
      },
    });
    ({ nc, client } = await stackClient(stack.prefix, 3_000));
    tenant = await stack.createTenant();
    const device = await runAsTenant(parseTenantSlug(tenant.slug), () =>
      client.request(Contracts.reliable.devices.create, { idempotencyKey: 'k1', name: 'Pump', model: 'P-1' }),
    );
    deviceId = device.id;
    const customer = await stack.request({
      method: 'POST',
      path: '/v1/customers',
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
      body: { name: 'Cara', email: 'cara@example.com' },
    });
    customerId = customer.body.id;
  }, 120_000);

  afterAll(async () => {
    await nc?.drain();
    await stack?.close();
    await mariadb?.destroy();
  });

  const device = (t: TestTenant = tenant) =>
    stack.request({ path: `/v1/devices/${deviceId}`, tenant: t.slug, apiKey: t.apiKey });
  const customer = () =>
    stack.request({ path: `/v1/customers/${customerId}`, tenant: tenant.slug, apiKey: tenant.apiKey });

  it('faults - MariaDB stopped: reliable routes answer 503 within the deadline, secure routes keep working, recovery is automatic', async () => {
    expect((await device()).status).toBe(200);
    await mariadb.kill();

    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await device();
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('DATABASE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    expect((await customer()).status).toBe(200);
    expect((await stack.request({ path: '/health/live' })).status).toBe(200);
    expect(stack.app('reliable-store').isRunning).toBe(true);

    await mariadb.start();
    const back = await eventually(
      async () => {
        const res = await device();
        return res.status === 200 ? res : false;
      },
      { timeoutMs: 20_000, what: 'reliable routes recover' },
    );
    expect(back.body.id).toBe(deviceId);
  }, 60_000);

  it('faults - a tenant whose reliable database was dropped by hand gets 503 with a code; other tenants are unaffected', async () => {
    const victim = await stack.createTenant('victim');
    const victimDevice = await runAsTenant(parseTenantSlug(victim.slug), () =>
      client.request(Contracts.reliable.devices.create, { idempotencyKey: 'v1', name: 'Valve', model: 'V-1' }),
    );
    // Its database of its own on the private server (MariaDB placements are databases), by its name
    // from the catalog.
    const placement = await stack.placement(victim.slug, 'reliable');
    expect(placement).toMatchObject({ kind: 'database', server: `mysql://127.0.0.1:${mariadb.port}` });
    await dropTenantDataByHand(placement);

    const res = await stack.request({
      path: `/v1/devices/${victimDevice.id}`,
      tenant: victim.slug,
      apiKey: victim.apiKey,
    });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('DATABASE_UNAVAILABLE');
    expect(res.text).not.toMatch(/ps_reliable|1049|Unknown database/);
    expect((await device()).status).toBe(200);
    expect((await stack.admin('DELETE', `/admin/tenants/${victim.slug}`)).status).toBe(204);
    stack.forget(victim.slug);
  }, 60_000);
});

describe('reliable store - a dropped PostgreSQL tenant database stays contained (e2e, the shared PostgreSQL server)', () => {
  let stack: TestStack;
  let nc: NatsConnection;
  let client: MessageClient;

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'gateway'],
      parallelStart: true,
      env: { RELIABLE_SERVER_URL: TestServices.postgresUrl },
    });
    ({ nc, client } = await stackClient(stack.prefix, 3_000));
  }, 120_000);

  afterAll(async () => {
    await nc?.drain();
    await stack?.close();
  });

  const createDevice = (t: TestTenant, key: string) =>
    runAsTenant(parseTenantSlug(t.slug), () =>
      client.request(Contracts.reliable.devices.create, { idempotencyKey: key, name: 'Valve', model: 'V-1' }),
    );
  const getDevice = (t: TestTenant, id: string) =>
    stack.request({ path: `/v1/devices/${id}`, tenant: t.slug, apiKey: t.apiKey });

  it('faults - a tenant whose reliable database was dropped by hand (PostgreSQL) gets 503 with a code; other tenants are unaffected', async () => {
    const bystander = await stack.createTenant();
    const bystanderDevice = await createDevice(bystander, 'b1');
    const victim = await stack.createTenant('victim');
    const victimDevice = await createDevice(victim, 'v1');
    // Only the victim's schema goes: the bystander's schema in the same shared database keeps serving.
    const placement = await stack.placement(victim.slug, 'reliable');
    expect(placement.kind).toBe('schema');
    expect(await stack.placement(bystander.slug, 'reliable')).toMatchObject({
      kind: 'schema',
      server: placement.server,
      database: placement.database,
    });
    await dropTenantDataByHand(placement);

    const res = await getDevice(victim, victimDevice.id);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('DATABASE_UNAVAILABLE');
    expect(res.text).not.toMatch(/ps_reliable|polystore_|3D000|3F000|42P01|does not exist/);
    expect((await getDevice(bystander, bystanderDevice.id)).status).toBe(200);
    expect((await stack.admin('DELETE', `/admin/tenants/${victim.slug}`)).status).toBe(204);
    stack.forget(victim.slug);
  }, 60_000);
});
