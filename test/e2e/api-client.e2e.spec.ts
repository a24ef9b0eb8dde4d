import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import { createPolystoreClient, type PolystoreClient } from '#polystore/client';
import {
  Contracts,
  customerViewSchema,
  deviceCredentialsSchema,
  httpErrorBodySchema,
  ingestAcceptedSchema,
  type MessageClient,
} from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { eventually } from '../support/eventually.js';
import { stackClient } from '../support/nats.js';
import { matchesSchema } from '../support/openapi-schemas.js';
import { TEST_ADMIN_TOKEN, TestStack, type TestTenant } from '../support/stack.js';

/** Every answer is checked twice: by the contract's zod schema where there is one, and by docs/openapi.json. */
describe('api client - the generated client against real processes; every answer matches its schema', () => {
  let stack: TestStack;
  let tenant: TestTenant;
  let api: PolystoreClient;
  let admin: PolystoreClient;
  let devices: PolystoreClient;
  let nc: NatsConnection;
  let bus: MessageClient;

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['secure-store', 'edge-store', 'gateway'] });
    ({ nc, client: bus } = await stackClient(stack.prefix, 5_000));
    tenant = await stack.createTenant();
    api = createPolystoreClient({
      baseUrl: `http://127.0.0.1:${stack.gatewayPort}`,
      token: tenant.apiKey,
      host: `${tenant.slug}.${stack.baseDomain}`,
    });
    admin = createPolystoreClient({
      baseUrl: `http://127.0.0.1:${stack.adminPort}`,
      token: TEST_ADMIN_TOKEN,
      host: stack.baseDomain,
    });
    devices = createPolystoreClient({ baseUrl: `http://127.0.0.1:${stack.app('edge-store').port}` });
  }, 90_000);

  afterAll(async () => {
    await nc?.drain();
    await stack?.close();
  });

  it('api client - customers: create, read, search and erase, each answer its documented schema', async () => {
    const created = await api.POST('/v1/customers', {
      body: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0000' },
      params: { header: { 'Idempotency-Key': `api-client-${randomUUID()}` } },
    });
    expect(created.response.status).toBe(201);
    const customer = matchesSchema('CustomerDto', customerViewSchema.strict().parse(created.data));
    expect(customer).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0000' });

    const read = await api.GET('/v1/customers/{id}', { params: { path: { id: customer.id } } });
    expect(read.response.status).toBe(200);
    expect(matchesSchema('CustomerDto', read.data)).toEqual(customer);

    const found = await api.POST('/v1/customers/search', { body: { email: 'ada@example.com' } });
    expect(found.response.status).toBe(200);
    expect(matchesSchema('CustomerListDto', found.data).items.map((c) => c.id)).toEqual([customer.id]);

    const erased = await api.DELETE('/v1/customers/{id}', { params: { path: { id: customer.id } } });
    expect(erased.response.status).toBe(204);
    const gone = await api.GET('/v1/customers/{id}', { params: { path: { id: customer.id } } });
    expect(gone.response.status).toBe(404);
    expect(matchesSchema('ErrorBody', httpErrorBodySchema.strict().parse(gone.error)).code).toBe('CUSTOMER_NOT_FOUND');
  });

  it('api client - error answers are the one ErrorBody: 400 names each field, 401 without a key', async () => {
    const invalid = await api.POST('/v1/customers', { body: { name: '', email: 'not-an-email' } });
    expect(invalid.response.status).toBe(400);
    const body = matchesSchema('ErrorBody', httpErrorBodySchema.strict().parse(invalid.error));
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^name/), 'email must be an email address']),
    );
    expect(body.correlationId).toBe(invalid.response.headers.get('x-request-id'));

    const anonymous = createPolystoreClient({
      baseUrl: `http://127.0.0.1:${stack.gatewayPort}`,
      host: `${tenant.slug}.${stack.baseDomain}`,
    });
    const refused = await anonymous.GET('/v1/quotas');
    expect(refused.response.status).toBe(401);
    expect(matchesSchema('ErrorBody', refused.error).code).toBe('UNAUTHENTICATED');
  });

  it("api client - the admin API: tenants, a tenant's API keys and quotas, each answer its documented schema", async () => {
    const tenants = await admin.GET('/admin/tenants');
    expect(tenants.response.status).toBe(200);
    expect(matchesSchema('TenantListDto', tenants.data).items.map((t) => t.slug)).toContain(tenant.slug);

    const keys = await admin.GET('/admin/tenants/{slug}/api-keys', { params: { path: { slug: tenant.slug } } });
    expect(keys.response.status).toBe(200);
    expect(matchesSchema('ApiKeyListDto', keys.data).items.length).toBeGreaterThan(0);

    const quotas = await api.GET('/v1/quotas');
    expect(quotas.response.status).toBe(200);
    matchesSchema('QuotasDto', quotas.data);

    const unknown = await admin.GET('/admin/tenants/{slug}/quotas', { params: { path: { slug: 'no-such-tenant' } } });
    expect(unknown.response.status).toBe(404);
    expect(matchesSchema('ErrorBody', unknown.error).code).toBe('TENANT_NOT_FOUND');
  });

  it("api client - device ingest on the edge store: 202 IngestAccepted, 400 INVALID_READINGS, renew, then the gateway's telemetry", async () => {
    const credentials = deviceCredentialsSchema.parse(
      await runAsTenant(parseTenantSlug(tenant.slug), () =>
        bus.request(Contracts.edge.devices.provision, { deviceId: randomUUID() }),
      ),
    );
    const auth = { headers: { authorization: `Bearer ${credentials.token}` } };
    const now = new Date().toISOString();

    const accepted = await devices.POST('/ingest', {
      ...auth,
      body: [
        { seq: 1, ts: now, metrics: { temp: 21.5 } },
        { seq: 2, ts: Date.now(), metrics: { temp: 22 } },
      ],
    });
    expect(accepted.response.status).toBe(202);
    expect(matchesSchema('IngestAccepted', ingestAcceptedSchema.parse(accepted.data))).toEqual({ accepted: 2 });

    const refused = await devices.POST('/ingest', { ...auth, body: { seq: -1, ts: now, metrics: {} } });
    expect(refused.response.status).toBe(400);
    const error = matchesSchema('ErrorBody', refused.error);
    expect(error.code).toBe('INVALID_READINGS');
    expect(error.errors?.[0]).toMatch(/^readings\[0\]: seq/);

    const renewed = await devices.POST('/credentials/renew', auth);
    expect(renewed.response.status).toBe(200);
    expect(matchesSchema('DeviceCredentials', deviceCredentialsSchema.parse(renewed.data)).deviceId).toBe(
      credentials.deviceId,
    );

    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const page = await eventually(async () => {
      const res = await api.GET('/v1/devices/{id}/telemetry', {
        params: { path: { id: credentials.deviceId }, query: { from, to } },
      });
      return res.data && 'points' in res.data && res.data.points?.length === 2 ? res.data : false;
    });
    expect(matchesSchema('TelemetryPageDto', page).points?.map((p) => p.seq)).toEqual([1, 2]);
  });

  it('api client - the running gateway serves docs/openapi.json (the edge store serves the device API)', async () => {
    const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as {
      paths: Record<string, unknown>;
    };
    const served = await stack.internal<{ paths: Record<string, unknown> }>({ path: '/docs-json' });
    expect(served.status).toBe(200);
    for (const [path, item] of Object.entries(served.body.paths)) expect(committed.paths[path]).toEqual(item);
    expect(Object.keys(committed.paths).filter((path) => !(path in served.body.paths))).toEqual([
      '/ingest',
      '/credentials/renew',
    ]);
  });
});
