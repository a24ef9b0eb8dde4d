import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Dialog, Page } from 'playwright-core';
import { describeWithChromium, screenshot, TestBrowser } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { uniqueToken } from '../support/ids.js';
import { startOpsWorker } from '../support/ops-worker.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TEST_ADMIN_TOKEN, TestStack, type TestTenant } from '../support/stack.js';

const SEEDED = 999;
const PAGE_SIZE = 50;

/**
 * 999 tenants as catalog rows, in one statement ($1: how many), each with placements like those
 * of the tenant `$2` (names of their own, derived from the id as provisioning does; nothing exists
 * behind them). Their slugs (`acme-0001`, `alpha-0002`, ...) sort before `e2e-...`, so the real
 * tenant is not on the first page.
 */
const SEED_SQL = `
  WITH seeded AS (
    INSERT INTO tenants (id, slug, name, status, key_label)
    SELECT g.id, p.prefix || '-' || lpad(g.i::text, 4, '0'), initcap(p.prefix) || ' ' || lpad(g.i::text, 4, '0'),
           'active', g.id::text
      FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(1, $1::int) AS i) AS g
     CROSS JOIN LATERAL (
       SELECT (ARRAY['acme', 'alpha', 'apex', 'atlas', 'beacon', 'bolt', 'cedar', 'cobalt', 'delta', 'dune'])[1 + g.i % 10] AS prefix
     ) AS p
    RETURNING id
  )
  INSERT INTO placements (tenant_id, store, server_url, server_secret, database_name, kind, schema_name)
  SELECT s.id, p.store, p.server_url, p.server_secret,
         CASE p.kind WHEN 'schema' THEN p.database_name ELSE 'ps_' || p.store || '_' || replace(s.id::text, '-', '') END,
         p.kind,
         CASE p.kind WHEN 'schema' THEN 'ps_' || p.store || '_' || replace(s.id::text, '-', '') END
    FROM seeded s
   CROSS JOIN placements p
   WHERE p.tenant_id = (SELECT id FROM tenants WHERE slug = $2)`;

const suite = describeWithChromium(describe, it);

/**
 * The operations console in a real headless Chromium (playwright-core on the system's), against
 * real processes: a gateway and the secure and reliable stores on a system database of the
 * suite's own, holding 1,000 tenants (one created through the admin API, 999 seeded as catalog
 * rows). An operator logs in through the form, finds the tenant by typing in the search box,
 * revokes one of its API keys through the button and its confirmation (the key then answers
 * 401), retries a parked saga (parked for real: the secure store down while a device registers),
 * reads the audit, and logs out. Each page's screenshot goes to docs/console/.
 */
suite('console - an operator in a browser, on 1,000 tenants (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let stack: TestStack;
  let tenant: TestTenant;
  let browser: TestBrowser;
  let page: Page;
  let doomedKey: { id: string; name: string; apiKey: string };
  let parking: Promise<string>;
  const confirmations: string[] = [];

  const system = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    pgQuery<R>(sql, params, systemDb);
  const url = (path: string) => `http://127.0.0.1:${stack.adminPort}${path}`;
  const tenantCall = (path: string, apiKey: string) => stack.request({ path, tenant: tenant.slug, apiKey });
  const sagaState = async (id: string) =>
    (await system<{ state: string }>('SELECT state FROM sagas WHERE id = $1', [id]))[0]?.state;
  const count = (selector: string) => page.locator(selector).count();

  /**
   * A device registration that parks COMPENSATION_FAILED: the secure store is down, so the
   * credential step goes unanswered (the gateway's window: 1 s), and so does its compensation;
   * the registry step (reliable store) is undone. Resolves with the saga's id once parked, the
   * secure store started again (so that a retry can complete the undo).
   */
  const parkSaga = async (): Promise<string> => {
    await stack.app('secure-store').stop('SIGKILL');
    const name = `parked-${uniqueToken(6)}`;
    const pending = stack.request({
      method: 'POST',
      path: '/v1/devices',
      body: { name, model: 'EM-340' },
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
    });
    try {
      const { id } = await eventually(
        async () =>
          (
            await system<{ id: string }>(
              `SELECT id FROM sagas WHERE name = 'device-registration' AND input->>'name' = $1`,
              [name],
            )
          )[0],
        { what: 'the registration saga' },
      );
      await eventually(async () => (await sagaState(id)) === 'COMPENSATION_FAILED', {
        timeoutMs: 30_000,
        what: 'the saga parked COMPENSATION_FAILED',
      });
      await pending;
      return id;
    } finally {
      await stack.startApp('secure-store');
    }
  };

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    [stack, browser] = await Promise.all([
      TestStack.start({
        apps: ['secure-store', 'reliable-store', 'gateway'],
        parallelStart: true,
        env: {
          SYSTEM_DB_URL: systemUrl.toString(),
          SAGA_UNKNOWN_OUTCOME_WINDOW_MS: '1000',
          SAGA_COMPENSATION_WINDOW_MS: '1000',
        },
        // The outbox relay drains every tenant at boot and then every interval: not the seeded
        // rows, whose databases do not exist (it booted before they were seeded).
        appEnv: { 'reliable-store': { OUTBOX_SWEEP_INTERVAL_MS: '3600000' } },
      }),
      TestBrowser.launch(),
    ]);
    page = browser.page;
    page.on('dialog', (dialog: Dialog) => {
      confirmations.push(dialog.message());
      void dialog.accept();
    });
    tenant = await stack.createTenant('console');
    const created = await stack.admin('POST', `/admin/tenants/${tenant.slug}/api-keys`, { name: 'ci-deploy' });
    expect(created.status).toBe(201);
    doomedKey = { id: created.body.id, name: created.body.name, apiKey: created.body.apiKey };
    await system(SEED_SQL, [SEEDED, tenant.slug]);
  }, 90_000);

  afterAll(async () => {
    await parking?.catch(() => undefined);
    await browser?.close();
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  });

  it('console - without a session a page is 401 with a link to the login; a wrong token is 401 "wrong token"; the right one opens the tenants page with an HttpOnly, Strict cookie', async () => {
    const denied = await page.goto(url('/console/tenants'));
    expect(denied?.status()).toBe(401);
    expect(await page.getAttribute('#login-link', 'href')).toBe('/console/login');

    const form = await page.goto(url('/console/login'));
    expect(form?.status()).toBe(200);
    await screenshot(page, 'login');
    await page.fill('#token', 'not-the-admin-token');
    const [wrong] = await Promise.all([page.waitForNavigation(), page.click('#login')]);
    expect(wrong?.status()).toBe(401);
    expect(await page.textContent('#error')).toContain('wrong token');

    await page.fill('#token', TEST_ADMIN_TOKEN);
    await Promise.all([page.waitForURL(url('/console/tenants')), page.click('#login')]);
    const session = (await page.context().cookies()).find((c) => c.name === 'ps_console');
    expect(session).toMatchObject({ path: '/console', httpOnly: true, secure: true, sameSite: 'Strict' });
    // The token went in the form's body only: not in the URL, the page or the cookie.
    expect(page.url()).not.toContain(TEST_ADMIN_TOKEN);
    expect(await page.content()).not.toContain(TEST_ADMIN_TOKEN);
    expect(session?.value).not.toContain(TEST_ADMIN_TOKEN);
  });

  it('console - the tenants page shows 50 of the 1,000 by slug and a next link; typing in the search box finds the one tenant; its page shows placements as host:port and its keys', async () => {
    expect(await count('#tenants tr[data-slug]')).toBe(PAGE_SIZE);
    expect(await page.getAttribute('#tenants tr[data-slug]', 'data-slug')).toBe('acme-0010');
    expect(await count(`#tenants tr[data-slug="${tenant.slug}"]`)).toBe(0);
    expect(await page.getAttribute('#next', 'href')).toContain('after=');
    expect(await page.getAttribute('#tenants tr[data-slug] td[data-store="secure"] .health', 'data-health')).toMatch(
      /^(ok|degraded|down)$/,
    );
    await screenshot(page, 'tenants');

    // The random part of its slug, typed as an operator would, then Enter.
    const needle = tenant.slug.split('-')[1]!;
    await page.locator('#q').pressSequentially(needle);
    await page.locator('#q').press('Enter');
    await eventually(async () => (await count('#tenants tr[data-slug]')) === 1, { what: 'one tenant found' });
    expect(await page.getAttribute('#tenants tr[data-slug]', 'data-slug')).toBe(tenant.slug);

    await Promise.all([
      page.waitForURL(url(`/console/tenants/${tenant.slug}`)),
      page.click(`#tenants tr[data-slug="${tenant.slug}"] a[href="/console/tenants/${tenant.slug}"]`),
    ]);
    expect(await page.textContent('#placements tr[data-store="secure"]')).toContain('127.0.0.1:5432');
    expect(await page.textContent('#placements tr[data-store="reliable"]')).toContain('127.0.0.1:3306');
    expect(await page.content()).not.toMatch(/root@/); // a server's user is never shown
    expect(await count('#keys tr[data-key]')).toBe(2);
    expect(await page.textContent(`#keys tr[data-key="${doomedKey.id}"]`)).toContain(doomedKey.name);
    expect(await page.content()).not.toContain(doomedKey.apiKey);
    await screenshot(page, 'tenant');
  });

  it('console - revoking a key through its button and the confirmation: the key answers 401 at once and shows revoked; the other key still works', async () => {
    // Parked in the background from here (the screenshots before show every store up).
    parking = parkSaga();
    parking.catch(() => undefined);
    expect((await tenantCall('/v1/devices', doomedKey.apiKey)).status).toBe(200);
    confirmations.length = 0;
    await page.click(`button[data-revoke="${doomedKey.id}"]`);
    const row = page.locator(`#keys tr[data-key="${doomedKey.id}"]`);
    await eventually(async () => (await row.getAttribute('data-state')) === 'revoked', {
      what: 'the key shown revoked',
    });
    expect(confirmations).toEqual([`Revoke key ${doomedKey.name}?`]);
    expect(await row.locator('.state').textContent()).toBe('revoked');
    expect(await count(`button[data-revoke="${doomedKey.id}"]`)).toBe(0);
    expect((await tenantCall('/v1/devices', doomedKey.apiKey)).status).toBe(401);
    expect((await tenantCall('/v1/devices', tenant.apiKey)).status).toBe(200);
    // The same revocation as the admin API's: the key is gone from its list.
    const listed = await stack.admin('GET', `/admin/tenants/${tenant.slug}/api-keys`);
    expect(listed.body.items.map((k: { id: string }) => k.id)).toEqual([expect.any(String)]);
    expect(listed.body.items.map((k: { id: string }) => k.id)).not.toContain(doomedKey.id);
  });

  it('console - a parked saga: listed by its state, its page shows the failed step and a payload digest; retry with the confirmation completes the undo', async () => {
    const sagaId = await parking;
    await page.goto(url('/console/sagas'));
    await page.selectOption('#state', 'COMPENSATION_FAILED');
    await Promise.all([page.waitForURL(url('/console/sagas?state=COMPENSATION_FAILED')), page.click('#filter')]);
    const states = await page
      .locator('#sagas tr[data-saga]')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-state')));
    expect(states).toEqual(['COMPENSATION_FAILED']);
    expect(await count(`#sagas tr[data-saga="${sagaId}"]`)).toBe(1);
    await screenshot(page, 'sagas');

    await Promise.all([
      page.waitForURL(url(`/console/sagas/${sagaId}`)),
      page.click(`#sagas tr[data-saga="${sagaId}"] a[href="/console/sagas/${sagaId}"]`),
    ]);
    expect(await page.textContent('#saga-state')).toBe('COMPENSATION_FAILED');
    expect(await page.getAttribute('#steps tr[data-step="credential"]', 'data-state')).toBe('COMPENSATION_FAILED');
    expect(await page.textContent('#steps tr[data-step="credential"]')).toContain('STEP_UNANSWERED');
    // The payload's digest, never the payload (the device's name and model).
    expect(await page.textContent('#payload-digest')).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.content()).not.toContain('EM-340');
    await screenshot(page, 'saga');

    confirmations.length = 0;
    await page.click('#retry');
    await eventually(async () => (await sagaState(sagaId)) === 'COMPENSATED', {
      timeoutMs: 20_000,
      what: 'the saga compensated',
    });
    expect(confirmations).toEqual(['Retry what failed in this saga?']);
    await eventually(
      async () => {
        await page.goto(url(`/console/sagas/${sagaId}`));
        return (await page.textContent('#saga-state')) === 'COMPENSATED' && (await count('#retry')) === 0;
      },
      { what: 'the saga page shows COMPENSATED, without a retry button' },
    );
  });

  it('console - the audit shows each action with its outcome, never the token; logging out ends the session: a page is 401 again', async () => {
    await page.goto(url('/console/audit'));
    const shown = await page
      .locator('#audit tr[data-audit]')
      .evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-action')}:${tr.getAttribute('data-outcome')}`));
    expect(shown).toEqual(
      expect.arrayContaining(['login-failed:CONSOLE_WRONG_TOKEN', 'login:ok', 'key.revoke:ok', 'saga.retry:ok']),
    );
    expect(await page.textContent('#audit tr[data-action="key.revoke"]')).toContain(doomedKey.id);
    expect(await page.content()).not.toContain(TEST_ADMIN_TOKEN);
    const recorded = await system<{ action: string; outcome: string }>('SELECT action, outcome FROM admin_audit');
    expect(recorded.map((r) => `${r.action}:${r.outcome}`).sort()).toEqual([...shown].sort());
    await screenshot(page, 'audit');

    await Promise.all([page.waitForURL(url('/console/login')), page.click('#logout')]);
    expect((await page.context().cookies()).find((c) => c.name === 'ps_console')).toBeUndefined();
    const after = await page.goto(url('/console/tenants'));
    expect(after?.status()).toBe(401);
    const recordedAfter = await system<{ action: string }>('SELECT action FROM admin_audit ORDER BY id DESC LIMIT 1');
    expect(recordedAfter[0]?.action).toBe('logout');
  });

  it("console - moving the tenant's secure placement: the form and its confirmation, then the operation page follows the phases live (htmx) until the write pause is shown", async () => {
    const worker = await startOpsWorker(stack.cliEnv({ INSTANCE_ID: `ops-${uniqueToken(4)}`, OPS_POLL_MS: '100' }));
    try {
      await page.goto(url('/console/login'));
      await page.fill('#token', TEST_ADMIN_TOKEN);
      await Promise.all([page.waitForURL(url('/console/tenants')), page.click('#login')]);
      await page.goto(url(`/console/tenants/${tenant.slug}`));
      // A schema in the shared database becomes a database of its own on the store's default server.
      await page.selectOption('select[data-move-kind="secure"]', 'database');
      expect(await page.inputValue('select[data-move-server="secure"]')).toBe('postgres://127.0.0.1:5432');
      confirmations.length = 0;
      await Promise.all([
        page.waitForURL(/\/console\/operations\/[0-9a-f-]{36}$/),
        page.click('button[data-move="secure"]'),
      ]);
      expect(confirmations).toEqual([expect.stringMatching(/^Move the secure placement of /)]);
      // No reload from here: htmx replaces the progress every second until the operation is final.
      await eventually(async () => (await page.getAttribute('#operation', 'data-state')) === 'succeeded', {
        timeoutMs: 30_000,
        what: 'the operation page showing the move succeeded',
      });
      const phases = await page
        .locator('#phases li')
        .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-phase')));
      expect(phases).toEqual(expect.arrayContaining(['pause writes', 'copy', 'switch placement', 'succeeded']));
      expect(await page.textContent('#writes-paused')).toMatch(/^\d+ ms$/);
      expect(await count('#operation[hx-trigger]')).toBe(0);
      await screenshot(page, 'operation');
      expect((await stack.placement(tenant.slug, 'secure')).kind).toBe('database');
      expect((await tenantCall('/v1/audit/verify', tenant.apiKey)).body).toMatchObject({ valid: true });
    } finally {
      await worker.stop();
      // The old copy is kept by a move (its schema renamed away): dropped here.
      const kept = await system<{ schema: string }>(
        `SELECT report->>'sourceTablesMovedTo' AS schema FROM operations WHERE state = 'succeeded' AND report->>'sourceTablesMovedTo' IS NOT NULL`,
      );
      for (const { schema } of kept)
        if (/^ps_secure_[0-9a-f]{32}_m\d{14}$/.test(schema))
          await pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`, [], 'polystore_secure');
    }
  }, 60_000);
  it('console - the overview plots, the servers, jobs and operations pages render in the browser, and a tenant row loads its migration versions once shown (htmx)', async () => {
    await page.goto(url('/console/login'));
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await Promise.all([page.waitForURL(url('/console/tenants')), page.click('#login')]);

    await page.goto(url(`/console/tenants?q=${encodeURIComponent(tenant.slug)}`));
    await eventually(async () => (await count('#tenants td.migrations [data-figure="migration"]')) >= 1, {
      what: 'the migrations cell loaded by htmx',
    });
    expect(await page.textContent(`#tenants tr[data-slug="${tenant.slug}"] td.migrations`)).toMatch(/secure \S+/);

    await page.goto(url('/console/overview'));
    expect(await count('[data-series]')).toBeGreaterThanOrEqual(2);
    expect(await count('#stores li, #stores tr')).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'overview');

    await page.goto(url('/console/servers'));
    expect(await count('#servers tr[data-server]')).toBeGreaterThanOrEqual(2);
    expect(await page.content()).not.toMatch(/root@/);
    await screenshot(page, 'servers');

    await page.goto(url('/console/jobs'));
    expect(await count('#jobs')).toBe(1);
    await screenshot(page, 'jobs');

    await page.goto(url('/console/operations'));
    expect(await count('#operations tbody tr')).toBeGreaterThanOrEqual(1);
    await screenshot(page, 'operations');
  });
});
