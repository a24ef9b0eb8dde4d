import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../support/cli.js';
import { eventually } from '../support/eventually.js';
import { httpRequest, type HttpResponse } from '../support/http.js';
import { pgQuery } from '../support/pg.js';
import { TEST_ADMIN_TOKEN, TestStack, type RunningApp, type TestTenant } from '../support/stack.js';

interface KeyBody {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  expiresAt: string | null;
  lastUsedAt: string | null;
  replacedBy: string | null;
  apiKey: string;
}

describe('tenant lifecycle: API keys as a resource, deletion with a grace period, restore, purge (e2e)', () => {
  let stack: TestStack;
  let tenant: TestTenant;
  let other: TestTenant;
  let replica: RunningApp;
  /** A gateway that keeps deleted tenants for an hour. */
  let keeper: RunningApp;

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      parallelStart: true,
      env: { TENANT_PURGE_INTERVAL_MS: '200' },
    });
    [replica, keeper] = await Promise.all([
      stack.startReplica('gateway', 'b'),
      stack.startReplica('gateway', 'keeper', { TENANT_DELETION_GRACE_MS: '3600000' }),
    ]);
    [tenant, other] = await Promise.all([stack.createTenant('keys'), stack.createTenant('other')]);
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** A tenant route on the first gateway, or on `via`. */
  const call = <T = any>(
    apiKey: string,
    method: string,
    path: string,
    body?: unknown,
    t: TestTenant = tenant,
    via?: RunningApp,
  ): Promise<HttpResponse<T>> =>
    via
      ? httpRequest<T>({
          port: via.port,
          method,
          path,
          body,
          host: `${t.slug}.${stack.baseDomain}`,
          headers: { authorization: `Bearer ${apiKey}` },
        })
      : stack.request<T>({ method, path, body, tenant: t.slug, apiKey });

  const issue = async (body: unknown, t: TestTenant = tenant): Promise<KeyBody> => {
    const response = await call<KeyBody>(t.apiKey, 'POST', '/v1/api-keys', body, t);
    expect(response.status).toBe(201);
    return response.body;
  };

  it('api keys - created with a name and scopes, the secret shown once, listed without secrets', async () => {
    const reader = await issue({ name: 'reader', scopes: ['read-only'] });
    expect(reader).toMatchObject({ name: 'reader', scopes: ['read-only'], expiresAt: null, replacedBy: null });
    expect(reader.apiKey).toMatch(/^psk_/);
    expect(reader.apiKey.startsWith(reader.prefix)).toBe(true);

    const listed = await call<{ items: KeyBody[] }>(tenant.apiKey, 'GET', '/v1/api-keys');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((k) => k.name)).toEqual(expect.arrayContaining(['initial', 'reader']));
    expect(listed.text).not.toContain(reader.apiKey);
    expect(listed.text).not.toContain(tenant.apiKey);
    expect(listed.body.items.every((k) => !('apiKey' in k))).toBe(true);
  });

  it('api keys - scopes: read-only reads and searches, devices reaches only devices, neither manages keys', async () => {
    const created = await call(tenant.apiKey, 'POST', '/v1/customers', { name: 'Ada', email: 'ada@example.com' });
    expect(created.status).toBe(201);
    const reader = (await issue({ name: 'r', scopes: ['read-only'] })).apiKey;
    const devices = (await issue({ name: 'd', scopes: ['devices'] })).apiKey;

    expect((await call(reader, 'GET', `/v1/customers/${created.body.id}`)).status).toBe(200);
    expect((await call(reader, 'POST', '/v1/customers/search', { email: 'ada@example.com' })).status).toBe(200);
    const write = await call(reader, 'POST', '/v1/customers', { name: 'Bob', email: 'bob@example.com' });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ code: 'SCOPE_DENIED' });
    expect((await call(reader, 'GET', '/v1/api-keys')).status).toBe(403);

    expect((await call(devices, 'GET', '/v1/devices')).status).toBe(200);
    expect((await call(devices, 'GET', `/v1/customers/${created.body.id}`)).body).toMatchObject({
      code: 'SCOPE_DENIED',
    });
    expect((await call(devices, 'POST', '/v1/api-keys', {})).status).toBe(403);
    expect((await call(tenant.apiKey, 'GET', '/v1/devices')).status).toBe(200);
  });

  it('api keys - bad input is a 400 naming the field, and creates nothing', async () => {
    const before = (await call<{ items: KeyBody[] }>(tenant.apiKey, 'GET', '/v1/api-keys')).body.items.length;
    const cases: Array<[unknown, string]> = [
      [{ scopes: ['admin'] }, 'scopes'],
      [{ scopes: [] }, 'scopes'],
      [{ scopes: ['full', 'full'] }, 'scopes'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ expiresAt: 'tomorrow' }, 'expiresAt'],
      [{ expiresAt: new Date(Date.now() - 60_000).toISOString() }, 'expiresAt'],
      [{ tenant: other.slug }, 'tenant'],
    ];
    for (const [body, field] of cases) {
      const response = await call(tenant.apiKey, 'POST', '/v1/api-keys', body);
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(response.text).toContain(field);
    }
    const rotate = await call(tenant.apiKey, 'POST', `/v1/api-keys/not-a-uuid/rotate`, {});
    expect(rotate.status).toBe(400);
    expect(rotate.text).toContain('id must be a UUID');
    expect((await call<{ items: KeyBody[] }>(tenant.apiKey, 'GET', '/v1/api-keys')).body.items).toHaveLength(before);
  });

  it("api keys - a tenant can neither see, revoke nor rotate another tenant's key", async () => {
    const theirs = await issue({ name: 'theirs' }, other);
    const ours = await call<{ items: KeyBody[] }>(tenant.apiKey, 'GET', '/v1/api-keys');
    expect(ours.body.items.map((k) => k.id)).not.toContain(theirs.id);
    const revoke = await call(tenant.apiKey, 'DELETE', `/v1/api-keys/${theirs.id}`);
    expect(revoke.status).toBe(404);
    expect(revoke.body).toMatchObject({ code: 'API_KEY_NOT_FOUND' });
    expect((await call(tenant.apiKey, 'POST', `/v1/api-keys/${theirs.id}/rotate`, {})).status).toBe(404);
    expect((await call(theirs.apiKey, 'GET', '/v1/api-keys', undefined, other)).status).toBe(200);
  });

  it('api keys - a revoked key is refused within 1 s on both gateway replicas', async () => {
    const doomed = await issue({ name: 'doomed' });
    // Both replicas know (and cache) the key first.
    for (const via of [undefined, replica])
      expect(
        (await call(doomed.apiKey, 'GET', '/v1/sagas/00000000-0000-4000-8000-000000000000', undefined, tenant, via))
          .status,
      ).not.toBe(401);
    const revoked = await call(tenant.apiKey, 'DELETE', `/v1/api-keys/${doomed.id}`);
    expect(revoked.status).toBe(204);
    const started = Date.now();
    for (const via of [undefined, replica])
      await eventually(
        async () => (await call(doomed.apiKey, 'GET', '/v1/api-keys', undefined, tenant, via)).status === 401,
        {
          timeoutMs: Math.max(1, 1_000 - (Date.now() - started)),
          intervalMs: 20,
          what: `revocation seen by ${via ? 'replica b' : 'the first gateway'}`,
        },
      );
    expect((await call(tenant.apiKey, 'GET', '/v1/api-keys', undefined, tenant, replica)).status).toBe(200);
    expect((await call(tenant.apiKey, 'DELETE', `/v1/api-keys/${doomed.id}`)).status).toBe(404);
  });

  it('api keys - rotation gives a new key at once and keeps the old one for the overlap only; expiry is honoured', async () => {
    const old = await issue({ name: 'ci', scopes: ['read-only'] });
    const rotated = await call<KeyBody>(tenant.apiKey, 'POST', `/v1/api-keys/${old.id}/rotate`, { overlapSeconds: 2 });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ name: 'ci', scopes: ['read-only'] });
    expect(rotated.body.apiKey).not.toBe(old.apiKey);
    for (const key of [old.apiKey, rotated.body.apiKey])
      expect(
        (await call(key, 'GET', '/v1/sagas/00000000-0000-4000-8000-000000000000', undefined, tenant, replica)).status,
      ).toBe(404);
    const listed = await call<{ items: KeyBody[] }>(tenant.apiKey, 'GET', '/v1/api-keys');
    expect(listed.body.items.find((k) => k.id === old.id)).toMatchObject({ replacedBy: rotated.body.id });
    await eventually(
      async () => (await call(old.apiKey, 'GET', '/v1/sagas/00000000-0000-4000-8000-000000000000')).status === 401,
      {
        timeoutMs: 5_000,
        what: 'the old key refused after the overlap',
      },
    );
    expect((await call(rotated.body.apiKey, 'GET', '/v1/sagas/00000000-0000-4000-8000-000000000000')).status).not.toBe(
      401,
    );

    const brief = await issue({ name: 'brief', expiresAt: new Date(Date.now() + 1_500).toISOString() });
    expect((await call(brief.apiKey, 'GET', '/v1/api-keys', undefined, tenant, replica)).status).toBe(200);
    await eventually(
      async () => (await call(brief.apiKey, 'GET', '/v1/api-keys', undefined, tenant, replica)).status === 401,
      {
        timeoutMs: 5_000,
        what: 'the expired key refused',
      },
    );
  });

  it('api keys - the admin API manages any tenant\'s keys; "last used" survives a graceful restart', async () => {
    const admin = <T = any>(method: string, path: string, body?: unknown) => stack.admin<T>(method, path, body);
    const made = await admin<KeyBody>('POST', `/admin/tenants/${tenant.slug}/api-keys`, {
      name: 'ops',
      scopes: ['devices'],
    });
    expect(made.status).toBe(201);
    expect((await call(made.body.apiKey, 'GET', '/v1/devices', undefined, tenant, replica)).status).toBe(200);
    // The replica records the use in memory and writes it when it stops (or every 30 s).
    await replica.stop('SIGTERM');
    const listed = await admin<{ items: KeyBody[] }>('GET', `/admin/tenants/${tenant.slug}/api-keys`);
    expect(listed.body.items.find((k) => k.id === made.body.id)?.lastUsedAt).not.toBeNull();
    expect((await admin('DELETE', `/admin/tenants/${tenant.slug}/api-keys/${made.body.id}`)).status).toBe(204);
    await eventually(async () => (await call(made.body.apiKey, 'GET', '/v1/devices')).status === 401, {
      timeoutMs: 1_000,
      what: 'admin revocation seen',
    });
    const unknown = await admin('GET', `/admin/tenants/no-such-tenant/api-keys`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/json/);
    replica = await stack.startReplica('gateway', 'c');
  });

  it('api keys - delete a tenant and create it again under its slug: the old keys are refused, the new tenant has only its own', async () => {
    const doomed = await stack.createTenant('reuse');
    const extra = await issue({ name: 'extra' }, doomed);
    expect((await stack.admin('DELETE', `/admin/tenants/${doomed.slug}`)).status).toBe(204);
    const again = await stack.admin<{ apiKey: string }>('POST', '/admin/tenants', { slug: doomed.slug, name: 'Again' });
    expect(again.status).toBe(201);
    const reborn: TestTenant = { slug: doomed.slug, apiKey: again.body.apiKey };
    for (const key of [doomed.apiKey, extra.apiKey])
      for (const via of [undefined, replica])
        expect((await call(key, 'GET', '/v1/api-keys', undefined, reborn, via)).status).toBe(401);
    const listed = await call<{ items: KeyBody[] }>(reborn.apiKey, 'GET', '/v1/api-keys', undefined, reborn);
    expect(listed.body.items.map((k) => k.name)).toEqual(['initial']);
    expect(
      (await call<{ items: unknown[] }>(reborn.apiKey, 'GET', '/v1/devices', undefined, reborn)).body.items,
    ).toEqual([]);
    expect((await stack.admin('DELETE', `/admin/tenants/${doomed.slug}`)).status).toBe(204);
  });

  it('api keys - the admin token is not a tenant key, and tenant keys do not open the admin API', async () => {
    expect((await call(TEST_ADMIN_TOKEN, 'GET', '/v1/api-keys')).status).toBe(401);
    const asTenant = await stack.internal({
      method: 'GET',
      path: `/admin/tenants/${tenant.slug}/api-keys`,
      apiKey: tenant.apiKey,
    });
    expect(asTenant.status).toBe(401);
  });

  it("api keys - the CLI lists, creates, rotates and revokes a tenant's keys through the admin port", async () => {
    const run = (...args: string[]) => runCli(args, stack.cliEnv());
    const created = await run('api-keys', 'create', other.slug, '--name', 'cli', '--scopes', 'read-only', '--json');
    expect(created).toMatchObject({ code: 0 });
    const key = JSON.parse(created.stdout) as KeyBody;
    expect(key).toMatchObject({ name: 'cli', scopes: ['read-only'] });
    expect(
      (await call(key.apiKey, 'GET', '/v1/sagas/00000000-0000-4000-8000-000000000000', undefined, other)).status,
    ).toBe(404);
    const listed = await run('api-keys', 'list', other.slug, '--json');
    expect(listed.stdout).not.toContain(key.apiKey);
    expect((JSON.parse(listed.stdout) as KeyBody[]).map((k) => k.id)).toContain(key.id);
    const rotated = await run('api-keys', 'rotate', other.slug, key.id, '--overlap', '0', '--json');
    expect(rotated).toMatchObject({ code: 0 });
    const fresh = JSON.parse(rotated.stdout) as KeyBody;
    expect((await run('api-keys', 'revoke', other.slug, fresh.id)).code).toBe(0);
    await eventually(
      async () =>
        (await call(fresh.apiKey, 'GET', '/v1/sagas/00000000-0000-4000-8000-000000000000', undefined, other)).status ===
        401,
      { timeoutMs: 1_000, what: 'the revoked key refused' },
    );
    const bad = await run('api-keys', 'create', other.slug, '--scopes', 'root');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('root');
    expect((await run('api-keys', 'revoke', other.slug, fresh.id)).code).toBe(2);
  });

  describe('deletion with a grace period', () => {
    const onKeeper = <T = any>(method: string, path: string, body?: unknown) =>
      httpRequest<T>({
        port: keeper.adminPort,
        method,
        path,
        body,
        host: stack.baseDomain,
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
    /** A new tenant holding one customer. */
    const tenantWithCustomer = async (suffix: string, email: string) => {
      const t = await stack.createTenant(suffix);
      const customer = await call<{ id: string }>(t.apiKey, 'POST', '/v1/customers', { name: 'Kept', email }, t);
      expect(customer.status).toBe(201);
      return { tenant: t, customer };
    };
    const ingest = (token: string) =>
      httpRequest({
        port: stack.app('edge-store').port,
        method: 'POST',
        path: '/ingest',
        headers: { authorization: `Bearer ${token}` },
        body: { seq: Date.now(), ts: new Date().toISOString(), metrics: { kwh: 1 } },
      });

    it('tenants - a deleted tenant is kept, unreachable, its slug free; restored under another slug it has its data back', async () => {
      const { tenant: doomed, customer } = await tenantWithCustomer('grace', 'kept@example.com');
      const device = await call<{ id: string; token: string }>(
        doomed.apiKey,
        'POST',
        '/v1/devices',
        { name: 'm', model: 'x' },
        doomed,
      );
      expect(device.status).toBe(201);
      expect((await ingest(device.body.token)).status).toBe(202);

      const deleted = await onKeeper<{ id: string; formerSlug: string; purgeAfter: string }>(
        'DELETE',
        `/admin/tenants/${doomed.slug}`,
      );
      expect(deleted.status).toBe(200);
      expect(deleted.body.formerSlug).toBe(doomed.slug);
      expect(Date.parse(deleted.body.purgeAfter)).toBeGreaterThan(Date.now() + 3_000_000);
      // Refused at once: its key on every gateway, its device at the edge.
      for (const via of [undefined, replica, keeper])
        expect((await call(doomed.apiKey, 'GET', '/v1/api-keys', undefined, doomed, via)).status).toBe(401);
      await eventually(async () => (await ingest(device.body.token)).status === 401, {
        timeoutMs: 35_000,
        what: 'device refused',
      });
      // Its data is still there, under the slug it was moved to.
      const listed = await stack.admin<{ items: Array<{ slug: string; status: string; id?: string }> }>(
        'GET',
        '/admin/tenants',
      );
      const kept = listed.body.items.find((t) => t.id === deleted.body.id);
      expect(kept).toMatchObject({ status: 'deleted', formerSlug: doomed.slug });
      expect(kept!.slug).not.toBe(doomed.slug);
      // No key can be made for it meanwhile (it would start to work at a restore).
      const sneaky = await onKeeper('POST', `/admin/tenants/${kept!.slug}/api-keys`, {});
      expect(sneaky.status).toBe(404);

      // The slug is taken again at once by a tenant that sees nothing of the old one.
      const newcomer = await stack.admin<{ apiKey: string }>('POST', '/admin/tenants', {
        slug: doomed.slug,
        name: 'New',
      });
      expect(newcomer.status).toBe(201);
      const fresh: TestTenant = { slug: doomed.slug, apiKey: newcomer.body.apiKey };
      expect((await call(fresh.apiKey, 'GET', `/v1/customers/${customer.body.id}`, undefined, fresh)).status).toBe(404);

      // Restoring under the taken slug is a conflict; under another one, the data is back.
      const taken = await onKeeper('POST', `/admin/tenants/${deleted.body.id}/restore`, {});
      expect(taken.status).toBe(409);
      expect(taken.body).toMatchObject({ code: 'TENANT_EXISTS' });
      expect(
        (await onKeeper('POST', `/admin/tenants/${deleted.body.id}/restore`, { slug: 'Bad Slug' })).text,
      ).toContain('slug');
      const restoredSlug = `${doomed.slug}-r`;
      const restored = await onKeeper<{ slug: string; apiKey: string }>(
        'POST',
        `/admin/tenants/${deleted.body.id}/restore`,
        {
          slug: restoredSlug,
        },
      );
      expect(restored.status).toBe(200);
      const back: TestTenant = { slug: restoredSlug, apiKey: restored.body.apiKey };
      const read = await call<{ email: string }>(
        back.apiKey,
        'GET',
        `/v1/customers/${customer.body.id}`,
        undefined,
        back,
      );
      expect(read.status).toBe(200);
      expect(read.body.email).toBe('kept@example.com');
      for (const t of [fresh, back]) expect((await stack.admin('DELETE', `/admin/tenants/${t.slug}`)).status).toBe(204);
      stack.forget(doomed.slug);
    });

    it('tenants - a gateway killed in the middle of a deletion leaves the tenant refused; the DELETE run again finishes it', async () => {
      const { tenant: doomed, customer } = await tenantWithCustomer('crash', 'c@example.com');
      const crashy = await stack.startReplica('gateway', 'crashy', {
        TENANT_DELETION_GRACE_MS: '3600000',
        CRASH_POINTS: 'gateway.tenants.delete.after-revoke',
      });
      const killed = await httpRequest({
        port: crashy.adminPort,
        method: 'DELETE',
        path: `/admin/tenants/${doomed.slug}`,
        host: stack.baseDomain,
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      }).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      expect(killed).not.toBe('answered'); // the process died before it could answer
      expect((await crashy.waitForExit()).signal).toBe('SIGKILL');
      const [row] = await pgQuery<{ status: string }>(
        'SELECT status FROM tenants WHERE slug = $1',
        [doomed.slug],
        'polystore_test_system',
      );
      expect(row?.status).toBe('deleting');
      expect((await call(doomed.apiKey, 'GET', `/v1/customers/${customer.body.id}`, undefined, doomed)).status).toBe(
        401,
      );

      const again = await onKeeper<{ id: string }>('DELETE', `/admin/tenants/${doomed.slug}`);
      expect(again.status).toBe(200);
      const restored = await onKeeper<{ slug: string; apiKey: string }>(
        'POST',
        `/admin/tenants/${again.body.id}/restore`,
        {},
      );
      expect(restored.body.slug).toBe(doomed.slug);
      const read = await call(restored.body.apiKey, 'GET', `/v1/customers/${customer.body.id}`, undefined, doomed);
      expect(read.status).toBe(200);
    });

    it('tenants - once its grace period is over, a deleted tenant is purged by a gateway and can no longer be restored', async () => {
      const doomed = await stack.createTenant('purge');
      const deleted = await onKeeper<{ id: string }>('DELETE', `/admin/tenants/${doomed.slug}`);
      expect(deleted.status).toBe(200);
      const before = await stack.admin<{
        items: Array<{ id?: string; placements: Array<{ store: string; schema?: string }> }>;
      }>('GET', '/admin/tenants');
      const schema = before.body.items
        .find((t) => t.id === deleted.body.id)!
        .placements.find((p) => p.store === 'secure')!.schema!;
      expect(await pgQuery('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema], 'polystore_secure')).toHaveLength(
        1,
      );
      // The grace period ends (as if an hour had passed): the gateways' purge timers find it.
      await pgQuery(`UPDATE tenants SET purge_after = now() WHERE id = $1`, [deleted.body.id], 'polystore_test_system');
      await eventually(
        async () =>
          (await pgQuery('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema], 'polystore_secure')).length === 0,
        { timeoutMs: 15_000, what: 'the schema dropped by the purge' },
      );
      await eventually(
        async () =>
          (await pgQuery('SELECT 1 FROM tenants WHERE id = $1', [deleted.body.id], 'polystore_test_system')).length ===
          0,
        {
          timeoutMs: 15_000,
          what: 'the catalog entry gone',
        },
      );
      const late = await onKeeper('POST', `/admin/tenants/${deleted.body.id}/restore`, {});
      expect(late.status).toBe(404);
      expect((await onKeeper('POST', `/admin/tenants/${deleted.body.id}/purge`)).status).toBe(404);
      stack.forget(doomed.slug);
    });
  });
});
