import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConsoleClient, type ConsoleCallOptions } from '../support/console.js';
import { eventually } from '../support/eventually.js';
import type { HttpResponse } from '../support/http.js';
import { uniqueToken } from '../support/ids.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TEST_ADMIN_TOKEN, TestStack, type TestTenant } from '../support/stack.js';
import { dropTenantDataByHand } from '../support/tenant-data.js';

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** A session cookie value as the contract defines it (docs/console.md), signed under `adminToken`. */
function signedSession(adminToken: string, expiresAt: number): string {
  const key = Buffer.from(hkdfSync('sha256', adminToken, Buffer.alloc(0), 'polystore console session v1', 32));
  const payload = `v1.${expiresAt}.${randomBytes(16).toString('base64url')}`;
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

/** The `ps_console` value a `Set-Cookie` sets, and the whole header. */
function setCookieOf(response: HttpResponse): { value: string; header: string } | undefined {
  const header = (response.headers['set-cookie'] ?? []).find((c) => c.startsWith('ps_console='));
  return header ? { value: header.slice('ps_console='.length).split(';')[0]!, header } : undefined;
}

/** The CSRF token a page renders in its forms. */
function csrfOf(page: string): string {
  const match = /name="_csrf" value="([A-Za-z0-9_-]+)"/.exec(page);
  if (!match) throw new Error(`no _csrf field in:\n${page.slice(0, 2_000)}`);
  return match[1]!;
}

/** Every `data-<attribute>` value of `<tr>` rows, in page order. */
function rowsOf(page: string, attribute: string): string[] {
  return [...page.matchAll(new RegExp(`<tr data-${attribute}="([^"]+)"`, 'g'))].map((m) => m[1]!);
}

/**
 * The operations console (docs/console.md) over HTTP on a real gateway with the secure store
 * only: admin port only, the signed stateless session and its CSRF token, security headers, the
 * tenants page over 1,000 catalog tenants, a tenant's keys (revoked through the console and
 * refused at once on the tenant API), a parked saga retried once for a double submit, and the
 * admin audit. The suite has its own system database: its catalog holds only its own tenants.
 * The saga is parked the cheapest real way: a tenant created while the gateway's only store is
 * not running (its provisioning and then its undo go unanswered for their 1 s windows).
 */
describe('console - the operations console on the admin port (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  const token = uniqueToken(8);
  let stack: TestStack;
  let tenant: TestTenant;
  let parkedSagaId: string;
  let cookie: string;
  let csrf: string;

  const system = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    pgQuery<R>(sql, params, systemDb);
  /** A request to the admin port (or the public one), with the session cookie unless `session` says otherwise. */
  const consoleCall = (method: string, path: string, options: ConsoleCallOptions = {}) =>
    new ConsoleClient(stack).call(method, path, {
      ...options,
      session: options.session === undefined ? cookie : options.session,
    });
  const login = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    consoleCall('POST', '/console/login', { session: null, form, headers });

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    stack = await TestStack.start({
      apps: ['gateway'],
      env: {
        SYSTEM_DB_URL: systemUrl.toString(),
        STORES: 'secure',
        SAGA_UNKNOWN_OUTCOME_WINDOW_MS: '1000',
        SAGA_COMPENSATION_WINDOW_MS: '1000',
      },
    });
    // No store answers: the provisioning and then its undo go unanswered, and the saga parks.
    const parkedSlug = `parked-${uniqueToken(6)}`;
    const creating = stack.admin('POST', '/admin/tenants', { slug: parkedSlug, name: 'Parked' }).catch(() => undefined);
    parkedSagaId = await eventually(
      async () => {
        const parked = await stack.admin<{ items: Array<{ id: string; tenant: string }> }>(
          'GET',
          '/admin/sagas?state=COMPENSATION_FAILED',
        );
        return parked.body.items.find((s) => s.tenant === parkedSlug)?.id;
      },
      { timeoutMs: 30_000, what: 'the provisioning saga parked COMPENSATION_FAILED' },
    );
    await creating;
    await stack.startApp('secure-store');
    tenant = await stack.createTenant(`find-${token}`);
    // 999 other tenants, straight into the catalog, in one statement: names with `%`, `_` and `\`
    // (and near misses that a wildcard would match) among them.
    await system(
      `INSERT INTO tenants (id, slug, name, status, key_label)
       SELECT id, slug, name, 'active', id::text FROM (
         SELECT gen_random_uuid() AS id, 'seed-' || lpad(i::text, 4, '0') AS slug, 'Seeded tenant ' || i AS name
           FROM generate_series(1, 994) AS i
         UNION ALL
         SELECT gen_random_uuid(), s.slug, s.name
           FROM (VALUES ('lit-percent', 'Rate 100% club'), ('lit-percent-miss', 'Rate 1000 club'),
                        ('lit-under', 'snake_case co'), ('lit-under-miss', 'snakeXcase co'),
                        ('lit-backslash', 'back\\slash ltd')) AS s (slug, name)
       ) AS seeded`,
    );
    expect((await system<{ n: string }>('SELECT count(*)::text AS n FROM tenants'))[0]!.n).toBe('1000');
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  });

  it('console - the public port answers 404 for every console route', async () => {
    const port = stack.gatewayPort;
    for (const [method, path] of [
      ['GET', '/console'],
      ['GET', '/console/login'],
      ['GET', '/console/tenants'],
      ['GET', '/console/assets/htmx.min.js'],
      ['GET', `/console/sagas/${parkedSagaId}`],
    ])
      expect([path, (await consoleCall(method!, path!, { port, session: null })).status]).toEqual([path, 404]);
    const loginThere = await consoleCall('POST', '/console/login', {
      port,
      session: null,
      form: { token: TEST_ADMIN_TOKEN },
    });
    expect(loginThere.status).toBe(404);
    expect(loginThere.headers['set-cookie']).toBeUndefined();
  });

  it('console - login: a wrong or missing token is 401 with the form and "wrong token"; a foreign Origin 403; the right token sets the session cookie', async () => {
    const wrong = await login({ token: 'not-the-admin-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toMatch(/<p id="error"[^>]*>wrong token<\/p>/);
    expect(wrong.text).toContain('<input id="token" name="token" type="password"');
    expect(setCookieOf(wrong)).toBeUndefined();
    expect((await login({})).status).toBe(401);
    expect((await login({ token: 'x'.repeat(5_000) })).status).toBe(401);
    const foreign = await login({ token: TEST_ADMIN_TOKEN }, { origin: 'http://evil.example' });
    expect([foreign.status, setCookieOf(foreign)]).toEqual([403, undefined]);

    const form = await consoleCall('GET', '/console/login', { session: null });
    expect(form.status).toBe(200);
    expect(form.text).toContain('<form method="post" action="/console/login"');
    expect(form.text).toContain('<button id="login" type="submit"');

    const right = await login({ token: TEST_ADMIN_TOKEN }, { origin: `http://127.0.0.1:${stack.adminPort}` });
    expect([right.status, right.headers['location']]).toEqual([303, '/console/tenants']);
    const set = setCookieOf(right)!;
    expect(set.header.split('; ').slice(1).sort()).toEqual(
      ['HttpOnly', 'Max-Age=28800', 'Path=/console', 'SameSite=Strict', 'Secure'].sort(),
    );
    expect(set.value).toMatch(/^v1\.\d+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    for (const response of [wrong, foreign, right]) expect(response.text).not.toContain(TEST_ADMIN_TOKEN);
    cookie = set.value;
    const page = await consoleCall('GET', '/console/tenants');
    expect(page.status).toBe(200);
    csrf = csrfOf(page.text);
    expect(page.text).toContain(`<body hx-headers='{"X-CSRF-Token": "${csrf}"}'>`);
    const rows = await system<{ actor: string; action: string; outcome: string }>(
      "SELECT actor, action, outcome FROM admin_audit WHERE action IN ('login', 'login-failed') ORDER BY id",
    );
    expect(rows.map((r) => `${r.action}:${r.outcome}`)).toEqual([
      'login-failed:CONSOLE_WRONG_TOKEN',
      'login-failed:CONSOLE_WRONG_TOKEN',
      'login-failed:CONSOLE_WRONG_TOKEN',
      'login:ok',
    ]);
    expect(rows[0]!.actor).toBe('console:anonymous');
    expect(rows[3]!.actor).toBe(`console:${cookie.split('.')[2]!.slice(0, 8)}`);
  });

  it('console - every page and action is 401 without a session, with an expired one, and with one signed under another admin token', async () => {
    const now = Math.floor(Date.now() / 1_000);
    const sessions = {
      none: null,
      expired: signedSession(TEST_ADMIN_TOKEN, now - 1),
      foreign: signedSession('another-admin-token-0123456789', now + 3_600),
      garbage: 'v1.99999999999.abc.def',
    };
    const keyId = '00000000-0000-4000-8000-000000000000';
    const routes: Array<[string, string]> = [
      ['GET', '/console'],
      ['GET', '/console/tenants'],
      ['GET', `/console/tenants/${tenant.slug}`],
      ['GET', '/console/sagas'],
      ['GET', `/console/sagas/${parkedSagaId}`],
      ['GET', '/console/audit'],
      ['POST', `/console/tenants/${tenant.slug}/keys/${keyId}/revoke`],
      ['POST', `/console/sagas/${parkedSagaId}/retry`],
      ['POST', `/console/sagas/${parkedSagaId}/skip`],
      ['POST', '/console/logout'],
    ];
    for (const [name, session] of Object.entries(sessions))
      for (const [method, path] of routes) {
        const response = await consoleCall(method, path, {
          session,
          ...(method === 'POST' ? { form: { _csrf: csrf, idempotencyKey: 'k-1' } } : {}),
        });
        expect([name, method, path, response.status]).toEqual([name, method, path, 401]);
        expect(response.text).toContain('href="/console/login"');
      }
    // A session signed as the contract says, with the right token, is accepted (the format is the contract).
    const crafted = await consoleCall('GET', '/console', { session: signedSession(TEST_ADMIN_TOKEN, now + 60) });
    expect([crafted.status, crafted.headers['location']]).toEqual([303, '/console/overview']);
    const htmx = await consoleCall('GET', '/console/tenants', { session: null, headers: { 'hx-request': 'true' } });
    expect([htmx.status, htmx.headers['hx-redirect']]).toEqual([401, '/console/login']);
    // Nothing of the above acted.
    expect(await system("SELECT 1 FROM admin_audit WHERE action NOT IN ('login', 'login-failed')")).toEqual([]);
  });

  it('console - security headers on pages, redirects, errors and assets; htmx is the pinned npm package, served from the admin port', async () => {
    const responses = [
      await consoleCall('GET', '/console/login', { session: null }),
      await consoleCall('GET', '/console/tenants'),
      await consoleCall('GET', '/console'),
      await consoleCall('GET', '/console/audit', { session: null }),
      await consoleCall('GET', '/console/tenants/no-such-tenant'),
      await consoleCall('GET', '/console/assets/htmx.min.js', { session: null }),
      await consoleCall('GET', '/console/assets/console.css', { session: null }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 303, 401, 404, 200, 200]);
    for (const response of responses) expect(response.headers).toMatchObject(SECURITY_HEADERS);
    const htmxFile = createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js');
    expect(responses[5]!.text).toBe(readFileSync(htmxFile, 'utf8'));
    expect(responses[5]!.headers['content-type']).toContain('javascript');
    expect(responses[6]!.headers['content-type']).toContain('text/css');
    // No inline script or style anywhere (the CSP forbids them).
    expect(responses[1]!.text).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=/);
  });

  it('console - the tenants page finds one tenant among 1,000, pages with `after` through all of them, and matches %, _ and \\ literally', async () => {
    const search = (q: string) => consoleCall('GET', `/console/tenants?${new URLSearchParams({ q }).toString()}`);
    const found = await search(token.toUpperCase());
    expect(found.status).toBe(200);
    expect(rowsOf(found.text, 'slug')).toEqual([tenant.slug]);
    expect(found.text).not.toContain('id="next"');
    const row = found.text.slice(found.text.indexOf(`<tr data-slug="${tenant.slug}"`));
    expect(row.slice(0, row.indexOf('</tr>'))).toMatch(/database|schema/);
    expect(row.slice(0, row.indexOf('</tr>'))).toMatch(/127\.0\.0\.1:5432<\/span>\s*<span class="health ok"/);

    expect(rowsOf((await search('100%')).text, 'slug')).toEqual(['lit-percent']);
    expect(rowsOf((await search('e_c')).text, 'slug')).toEqual(['lit-under']);
    expect(rowsOf((await search('k\\s')).text, 'slug')).toEqual(['lit-backslash']);
    expect(rowsOf((await search('%')).text, 'slug')).toEqual(['lit-percent']);

    const seen: string[] = [];
    let path: string | undefined = '/console/tenants';
    for (let pages = 0; path && pages < 25; pages++) {
      const page = await consoleCall('GET', path);
      expect(page.status).toBe(200);
      const slugs = rowsOf(page.text, 'slug');
      expect(slugs.length).toBeLessThanOrEqual(50);
      seen.push(...slugs);
      path = /<a\s+id="next"\s+href="([^"]+)"/.exec(page.text)?.[1]?.replace(/&amp;/g, '&');
      if (path) expect(path).toBe(`/console/tenants?after=${encodeURIComponent(slugs[slugs.length - 1]!)}`);
    }
    expect(seen.length).toBe(1_000);
    expect(new Set(seen).size).toBe(1_000);
    expect(seen).toContain(tenant.slug);
    const tooLong = await search('x'.repeat(101));
    expect(tooLong.status).toBe(400);
    expect(tooLong.text).toContain('q must be at most 100 characters');
  });

  it("console - a tenant's page shows its placements and keys, never a key's secret or hash; unknown tenants are 404", async () => {
    const created = await stack.admin<{ id: string; apiKey: string }>(
      'POST',
      `/admin/tenants/${tenant.slug}/api-keys`,
      {
        name: 'console <b>key</b>',
      },
    );
    expect(created.status).toBe(201);
    const page = await consoleCall('GET', `/console/tenants/${tenant.slug}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<table id="placements">');
    expect(page.text).toContain('<tr data-store="secure">');
    expect(rowsOf(page.text, 'key')).toContain(created.body.id);
    expect(page.text).toContain('console &lt;b&gt;key&lt;/b&gt;');
    expect(page.text).toContain(`data-revoke="${created.body.id}"`);
    expect(page.text).toContain('<table id="sagas">');
    const hashes = await system<{ hex: string; b64: string }>(
      "SELECT encode(key_hash, 'hex') AS hex, encode(key_hash, 'base64') AS b64 FROM api_keys",
    );
    for (const secret of [created.body.apiKey, tenant.apiKey, ...hashes.flatMap((h) => [h.hex, h.b64])])
      expect(page.text).not.toContain(secret);
    const unknown = await consoleCall('GET', '/console/tenants/no-such-tenant');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('TENANT_NOT_FOUND');
  });

  it('console - a placement whose circuit the store opened shows down on the tenants page; its neighbours in the same database stay ok', async () => {
    const victim = await stack.createTenant('circuit');
    const read = () =>
      stack.request({
        method: 'POST',
        path: '/v1/customers/search',
        tenant: victim.slug,
        apiKey: victim.apiKey,
        body: { email: 'x@example.com' },
      });
    expect((await read()).status).toBe(200);
    const healthOf = async (slug: string) => {
      const page = await consoleCall('GET', `/console/tenants?${new URLSearchParams({ q: slug }).toString()}`);
      expect(page.status).toBe(200);
      const row = page.text.slice(page.text.indexOf(`<tr data-slug="${slug}"`));
      return /<td class="placement" data-store="secure">[\s\S]*?data-health="([a-z]+)"/.exec(
        row.slice(0, row.indexOf('</tr>')),
      )?.[1];
    };
    expect(await healthOf(victim.slug)).toBe('ok');
    try {
      // Its schema dropped by hand: its reads fail until the store's breaker for it opens.
      await dropTenantDataByHand(await stack.placement(victim.slug, 'secure'));
      for (let i = 0; i < 3; i++) expect((await read()).status).toBe(503);
      expect(await healthOf(victim.slug)).toBe('down');
      expect(await healthOf(tenant.slug)).toBe('ok');
    } finally {
      expect((await stack.admin('DELETE', `/admin/tenants/${victim.slug}`)).status).toBeLessThan(300);
      stack.forget(victim.slug);
    }
  });

  it('console - a POST without the CSRF token, with a wrong one, or from a foreign Origin is 403 and does nothing', async () => {
    const created = await stack.admin<{ id: string; apiKey: string }>(
      'POST',
      `/admin/tenants/${tenant.slug}/api-keys`,
      {
        name: 'kept',
      },
    );
    const path = `/console/tenants/${tenant.slug}/keys/${created.body.id}/revoke`;
    const refused = [
      await consoleCall('POST', path, { form: {} }),
      await consoleCall('POST', path, { form: { _csrf: csrf.slice(0, -2) + (csrf.endsWith('AA') ? 'BB' : 'AA') } }),
      await consoleCall('POST', path, { form: { _csrf: csrf }, headers: { origin: 'http://evil.example' } }),
      await consoleCall('POST', path, { form: { _csrf: csrf }, headers: { origin: 'null' } }),
    ];
    refused.push(
      await consoleCall('POST', path, { form: { _csrf: csrf }, headers: { 'sec-fetch-site': 'cross-site' } }),
      await consoleCall('POST', path, {
        form: { _csrf: csrf },
        headers: { origin: 'null', 'sec-fetch-site': 'same-site' },
      }),
    );
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
    expect(refused[0]!.text).toContain('CSRF token missing or wrong');
    expect(refused[1]!.text).toContain('CSRF token missing or wrong');
    expect(
      (await stack.request({ path: '/v1/api-keys', tenant: tenant.slug, apiKey: created.body.apiKey })).status,
    ).toBe(200);
    expect(await system('SELECT 1 FROM api_keys WHERE id = $1 AND revoked_at IS NOT NULL', [created.body.id])).toEqual(
      [],
    );
    expect(await system("SELECT 1 FROM admin_audit WHERE action = 'key.revoke'")).toEqual([]);
    // The header works as well as the field (htmx sends it); `Origin: null` is what a browser
    // sends from a no-referrer page of the same origin, and passes with `Sec-Fetch-Site: same-origin`.
    const viaHeader = await consoleCall('POST', path, {
      form: {},
      headers: { 'x-csrf-token': csrf, origin: 'null', 'sec-fetch-site': 'same-origin' },
    });
    expect([viaHeader.status, viaHeader.headers['location']]).toEqual([303, `/console/tenants/${tenant.slug}`]);
  });

  it('console - revoking a key makes the next tenant API request with it 401, writes an admin_audit row, and shows the key revoked; a second revoke is a 404 page, audited too', async () => {
    const created = await stack.admin<{ id: string; apiKey: string }>(
      'POST',
      `/admin/tenants/${tenant.slug}/api-keys`,
      {
        name: 'doomed',
      },
    );
    const tenantApi = () => stack.request({ path: '/v1/api-keys', tenant: tenant.slug, apiKey: created.body.apiKey });
    expect((await tenantApi()).status).toBe(200);
    const path = `/console/tenants/${tenant.slug}/keys/${created.body.id}/revoke`;
    const revoked = await consoleCall('POST', path, { form: { _csrf: csrf } });
    expect([revoked.status, revoked.headers['location']]).toEqual([303, `/console/tenants/${tenant.slug}`]);
    expect((await tenantApi()).status).toBe(401);
    const rows = await system<{ actor: string; target: string; outcome: string; detail: unknown }>(
      "SELECT actor, target, outcome, detail FROM admin_audit WHERE action = 'key.revoke' AND target = $1",
      [created.body.id],
    );
    expect(rows).toEqual([
      {
        actor: `console:${cookie.split('.')[2]!.slice(0, 8)}`,
        target: created.body.id,
        outcome: 'ok',
        detail: { tenant: tenant.slug },
      },
    ]);
    const page = await consoleCall('GET', `/console/tenants/${tenant.slug}`);
    expect(page.text).toContain(`<tr data-key="${created.body.id}" data-state="revoked">`);
    expect(page.text).not.toContain(`data-revoke="${created.body.id}"`);

    const again = await consoleCall('POST', path, { form: { _csrf: csrf }, headers: { 'hx-request': 'true' } });
    expect(again.status).toBe(404);
    expect(again.text).toContain('API_KEY_NOT_FOUND');
    const outcomes = await system<{ outcome: string }>(
      "SELECT outcome FROM admin_audit WHERE action = 'key.revoke' AND target = $1 ORDER BY id",
      [created.body.id],
    );
    expect(outcomes.map((r) => r.outcome)).toEqual(['ok', 'API_KEY_NOT_FOUND']);
    const audit = await consoleCall('GET', '/console/audit');
    expect(audit.status).toBe(200);
    expect(audit.text).toContain('<table id="audit">');
    expect(rowsOf(audit.text, 'audit').length).toBeGreaterThanOrEqual(4);
    expect(audit.text).toContain(created.body.id);
  });

  it('console - a parked saga: listed, its page shows steps and a payload digest; retry submitted twice with the same key acts once; a refused action is a 409 page', async () => {
    const listed = await consoleCall('GET', '/console/sagas?state=COMPENSATION_FAILED');
    expect(listed.status).toBe(200);
    expect(rowsOf(listed.text, 'saga')).toContain(parkedSagaId);
    expect((await consoleCall('GET', '/console/sagas?state=DONE')).text).toContain('state');
    expect((await consoleCall('GET', '/console/sagas?state=DONE')).status).toBe(400);

    const page = await consoleCall('GET', `/console/sagas/${parkedSagaId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<section id="saga"');
    expect(page.text).toMatch(/<code id="payload-digest">[0-9a-f]{64}<\/code>/);
    expect(page.text).toContain('<tr data-step="secure-database" data-state="COMPENSATION_FAILED">');
    expect(page.text).not.toContain('"Parked"'); // the input's name is never shown
    expect(page.text).toMatch(/<button\s+id="retry"/);
    expect(page.text).toMatch(/<button\s+id="skip"/);
    const retryForm = page.text.slice(page.text.indexOf(`action="/console/sagas/${parkedSagaId}/retry"`));
    const idempotencyKey = /name="idempotencyKey" value="([^"]+)"/.exec(retryForm)![1]!;

    const attempts = async () => {
      const saga = await stack.admin<{ state: string; steps: Array<{ step: string; compensationAttempts: number }> }>(
        'GET',
        `/admin/sagas/${parkedSagaId}`,
      );
      return {
        state: saga.body.state,
        attempts: saga.body.steps.find((s) => s.step === 'secure-database')!.compensationAttempts,
      };
    };
    const before = await attempts();
    const form = { _csrf: csrf, idempotencyKey };
    const submits = await Promise.all([
      consoleCall('POST', `/console/sagas/${parkedSagaId}/retry`, { form }),
      consoleCall('POST', `/console/sagas/${parkedSagaId}/retry`, { form }),
    ]);
    expect(submits.map((r) => [r.status, r.headers['location']])).toEqual([
      [303, `/console/sagas/${parkedSagaId}`],
      [303, `/console/sagas/${parkedSagaId}`],
    ]);
    expect(await attempts()).toEqual({ state: 'COMPENSATED', attempts: before.attempts + 1 });
    // Without the key's replay, the saga is no longer parked: the admin API's own answer.
    expect((await stack.admin('POST', `/admin/sagas/${parkedSagaId}/retry`)).status).toBe(409);
    const audited = await system<{ outcome: string; detail: { idempotencyKey: string } }>(
      "SELECT outcome, detail FROM admin_audit WHERE action = 'saga.retry' AND target = $1",
      [parkedSagaId],
    );
    expect(audited).toEqual([
      { outcome: 'ok', detail: { idempotencyKey } },
      { outcome: 'ok', detail: { idempotencyKey } },
    ]);
    const closed = await consoleCall('GET', `/console/sagas/${parkedSagaId}`);
    expect(closed.text).toContain('data-state="COMPENSATED"');
    expect(closed.text).not.toMatch(/<button\s+id="retry"/);

    // The same key on a skip: the admin API's IDEMPOTENCY_MISMATCH, as a 409 page, audited.
    const mismatch = await consoleCall('POST', `/console/sagas/${parkedSagaId}/skip`, { form });
    expect(mismatch.status).toBe(409);
    expect(mismatch.text).toContain('IDEMPOTENCY_MISMATCH');
    const badKey = await consoleCall('POST', `/console/sagas/${parkedSagaId}/skip`, {
      form: { _csrf: csrf, idempotencyKey: 'not a key!' },
    });
    expect([badKey.status, badKey.text.includes('idempotencyKey')]).toEqual([400, true]);
    const unknown = await consoleCall('GET', '/console/sagas/00000000-0000-4000-8000-000000000000');
    expect([unknown.status, unknown.text.includes('SAGA_NOT_FOUND')]).toEqual([404, true]);
    // Each refused skip wrote its row (before its answer): the admin API's code, and the form's.
    const skips = await system<{ outcome: string }>(
      "SELECT outcome FROM admin_audit WHERE action = 'saga.skip' AND target = $1 ORDER BY id",
      [parkedSagaId],
    );
    expect(skips.map((r) => r.outcome)).toEqual(['IDEMPOTENCY_MISMATCH', 'VALIDATION_FAILED']);
  }, 60_000);

  it('console - CONSOLE_ENABLED=false: a gateway with the console off answers 404 for every console route on its admin port too', async () => {
    const off = await stack.startReplica('gateway', 'no-console', { CONSOLE_ENABLED: 'false' });
    for (const path of ['/console', '/console/login', '/console/tenants', '/console/assets/htmx.min.js'])
      expect([path, (await consoleCall('GET', path, { port: off.adminPort })).status]).toEqual([path, 404]);
    const loginThere = await consoleCall('POST', '/console/login', {
      port: off.adminPort,
      session: null,
      form: { token: TEST_ADMIN_TOKEN },
    });
    expect([loginThere.status, setCookieOf(loginThere)]).toEqual([404, undefined]);
    await off.stop();
  });

  it("console - failed logins count against the address with the API keys' limit: past AUTH_FAILURE_LIMIT_PER_MIN even the right token is 429 with Retry-After, audited", async () => {
    const strict = await stack.startReplica('gateway', 'login-limit', { AUTH_FAILURE_LIMIT_PER_MIN: '3' });
    try {
      const attempt = (token: string) =>
        consoleCall('POST', '/console/login', { port: strict.adminPort, session: null, form: { token } });
      for (let i = 0; i < 3; i++) expect((await attempt('not-the-admin-token')).status).toBe(401);
      const refused = await attempt(TEST_ADMIN_TOKEN);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.text).toContain('too many failed logins');
      expect(setCookieOf(refused)).toBeUndefined();
      const [row] = await system<{ action: string; outcome: string }>(
        'SELECT action, outcome FROM admin_audit ORDER BY id DESC LIMIT 1',
      );
      expect(row).toEqual({ action: 'login-failed', outcome: 'TOO_MANY_AUTH_FAILURES' });
      // Another gateway (its own counters, no shared Redis here) still lets the token in.
      expect((await login({ token: TEST_ADMIN_TOKEN })).status).toBe(303);
    } finally {
      await strict.stop();
    }
  });

  it('console - logout clears the cookie, revokes the session on every replica (a kept copy of the cookie is 401), and is audited', async () => {
    const replica = await stack.startReplica('gateway', 'logout-peer');
    const loggedOut = cookie;
    // The session works on both gateways before the logout.
    expect((await consoleCall('GET', '/console/tenants', { port: replica.adminPort })).status).toBe(200);
    const out = await consoleCall('POST', '/console/logout', { form: { _csrf: csrf } });
    expect([out.status, out.headers['location']]).toEqual([303, '/console/login']);
    const cleared = setCookieOf(out)!;
    expect(cleared.value).toBe('');
    expect(cleared.header).toContain('Max-Age=0');
    expect(cleared.header).toContain('Path=/console');
    expect((await consoleCall('GET', '/console', { session: cleared.value })).status).toBe(401);
    // A copy of the cookie kept from before (a stolen one) is refused here and on the other replica.
    try {
      expect((await consoleCall('GET', '/console/tenants', { session: loggedOut })).status).toBe(401);
      expect(
        (await consoleCall('GET', '/console/tenants', { session: loggedOut, port: replica.adminPort })).status,
      ).toBe(401);
    } finally {
      await replica.stop();
    }
    const [revoked] = await system<{ n: string }>(
      'SELECT count(*)::text AS n FROM console_session_revocations WHERE nonce = $1',
      [loggedOut.split('.')[2]],
    );
    expect(revoked!.n).toBe('1');
    expect(await system("SELECT outcome FROM admin_audit WHERE action = 'logout'")).toEqual([{ outcome: 'ok' }]);
  });
});
