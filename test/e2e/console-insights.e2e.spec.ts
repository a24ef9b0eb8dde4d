import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoreSchema } from '#polystore/data-router';
import { migrationNames } from '../../apps/cli/src/migrate/applied-migrations.js';
import { edgeSchema } from '../../apps/edge-store/src/edge.schema.js';
import { RELIABLE_SCHEMA } from '../../apps/reliable-store/src/reliable.schema.js';
import { SECURE_SCHEMA } from '../../apps/secure-store/src/secure.schema.js';
import { ConsoleClient, type ConsoleCallOptions } from '../support/console.js';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { uniqueToken } from '../support/ids.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TestStack, type AppName, type TestTenant } from '../support/stack.js';

const APPS: readonly AppName[] = ['secure-store', 'reliable-store', 'edge-store', 'gateway'];
const DEVICES = 2;

/** The newest migration of a store's schema: TypeORM's order is the timestamp ending each name. */
function newestOf(schema: StoreSchema): string {
  const stamp = (name: string) => Number(/(\d{13})$/.exec(name)?.[1] ?? 0);
  return migrationNames(schema)
    .sort((a, b) => stamp(a) - stamp(b))
    .at(-1)!;
}

/** `data-<name>` of the `<path data-series="<series>">` of the overview's SVG. */
function seriesFigure(page: string, series: string, name: 'points' | 'last' | 'max'): number | undefined {
  const path = new RegExp(`<path[^>]*data-series="${series}"[^>]*>`).exec(page)?.[0];
  const value = path ? new RegExp(`data-${name}="([^"]*)"`).exec(path)?.[1] : undefined;
  return value === undefined || value === '' ? undefined : Number(value);
}

/** The `<span data-figure="<name>" ...>text</span>` of `html` (attributes and text). */
function figureOf(html: string, name: string): { attributes: string; text: string } {
  const match = new RegExp(`<span\\s+data-figure="${name}"([^>]*)>([^<]*)<`).exec(html);
  if (!match) throw new Error(`no ${name} figure in:\n${html.slice(0, 3_000)}`);
  return { attributes: match[1]!, text: match[2]!.trim() };
}

/** A table's `<tr data-store="<store>">` row, inside the element with id `table`. */
function storeRow(page: string, table: string, store: string): string {
  const section = page.slice(page.indexOf(`id="${table}"`));
  const start = section.indexOf(`<tr data-store="${store}"`);
  if (start < 0) throw new Error(`no ${store} row in #${table}`);
  return section.slice(start, section.indexOf('</tr>', start));
}

/**
 * The console's overview plots and a tenant's details (docs/console.md) on a whole stack: after
 * traffic the overview's SVG series have points and the called store's request rate is above 0,
 * the edge store's ingest rate too; the tenant page shows its device count, each placement's
 * newest migration (the store's own list), and verifies its audit chain on request (ok, then
 * broken after a record is changed in SQL), audited; a stopped store shows `down` and costs only
 * its figures. The sampler keeps a point every 200 ms here (10 s by default).
 */
describe('console insights - plots, tenant details and the audit check in the console (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let stack: TestStack;
  let tenant: TestTenant;
  let cookie: string;
  let konsole: ConsoleClient;
  let csrf: string;

  const consoleCall = (method: string, path: string, options: ConsoleCallOptions = {}) =>
    konsole.call(method, path, { ...options, session: options.session === undefined ? cookie : options.session });
  const tenantCall = (method: string, path: string, body?: unknown) =>
    stack.request({ method, path, body, tenant: tenant.slug, apiKey: tenant.apiKey });
  const verify = (mode: string) =>
    consoleCall('POST', `/console/tenants/${tenant.slug}/audit/verify`, { form: { _csrf: csrf, mode } });

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    stack = await TestStack.start({
      apps: APPS,
      parallelStart: true,
      env: { SYSTEM_DB_URL: systemUrl.toString(), CONSOLE_PLOT_INTERVAL_MS: '200' },
    });
    tenant = await stack.createTenant('insights');
    konsole = new ConsoleClient(stack);
    await konsole.login('/console/overview');
    ({ cookie, csrf } = konsole);
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  });

  it('console insights - without a session the overview and the audit check are 401; the check without its CSRF token is 403; /console lands on the overview', async () => {
    for (const path of ['/console/overview', `/console/tenants/${tenant.slug}/migrations`]) {
      const anonymous = await consoleCall('GET', path, { session: null });
      expect([path, anonymous.status]).toEqual([path, 401]);
      expect(anonymous.text).toContain('href="/console/login"');
    }
    const post = await consoleCall('POST', `/console/tenants/${tenant.slug}/audit/verify`, {
      session: null,
      form: { mode: 'full' },
    });
    expect(post.status).toBe(401);
    const noCsrf = await consoleCall('POST', `/console/tenants/${tenant.slug}/audit/verify`, {
      form: { mode: 'full' },
    });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.text).toContain('CSRF token missing or wrong');
    const home = await consoleCall('GET', '/console');
    expect([home.status, home.headers['location']]).toEqual([303, '/console/overview']);
    // The plots are no console route on the public port.
    expect((await stack.request({ method: 'GET', path: '/console/overview' })).status).toBe(404);
  });

  it('console insights - after traffic the overview plots requests per store (above 0 for the store called), pool use and the ingest rate', async () => {
    expect((await tenantCall('POST', '/v1/customers', { name: 'Ada', email: 'ada@example.com' })).status).toBe(201);
    const device = await tenantCall('POST', '/v1/devices', { name: 'meter', model: 'EM-340' });
    expect(device.status).toBe(201);
    const ingest = await httpRequest({
      port: stack.app('edge-store').port,
      method: 'POST',
      path: '/ingest',
      headers: { authorization: `Bearer ${(device.body as { token: string }).token}` },
      body: [1, 2, 3].map((seq) => ({ seq, ts: new Date().toISOString(), metrics: { kwh: seq } })),
    });
    expect(ingest.status).toBe(202);

    const page = await eventually(
      async () => {
        const res = await consoleCall('GET', '/console/overview');
        return res.status === 200 &&
          (seriesFigure(res.text, 'requests:secure', 'max') ?? 0) > 0 &&
          (seriesFigure(res.text, 'ingest:edge', 'max') ?? 0) > 0
          ? res.text
          : undefined;
      },
      { timeoutMs: 15_000, what: 'the secure store requests and the edge ingest on the overview' },
    );
    for (const series of ['requests:secure', 'requests:reliable', 'requests:edge', 'errors:secure', 'pools:secure']) {
      expect([series, seriesFigure(page, series, 'points') ?? 0]).toEqual([series, expect.any(Number)]);
      expect(seriesFigure(page, series, 'points')).toBeGreaterThan(0);
      expect(seriesFigure(page, series, 'last')).toBeGreaterThanOrEqual(0);
    }
    // The device registration saga called the reliable store too.
    expect(seriesFigure(page, 'requests:reliable', 'max')).toBeGreaterThan(0);
    for (const store of ['secure', 'reliable', 'edge'])
      expect(page).toContain(`<li data-store="${store}" data-state="ok">`);
    expect(page).toMatch(/<svg\s+class="plot"\s+viewBox="0 0 \d+ \d+"/);
    expect(page).not.toMatch(/\sstyle=|<script>/);
  });

  it('console insights - the tenant page: device count, each placement newest migration as its store lists it, the recent error rate', async () => {
    // The suite's second test registered one device already.
    for (let i = 1; i < DEVICES; i++)
      expect((await tenantCall('POST', '/v1/devices', { name: `meter-${i}`, model: 'EM-340' })).status).toBe(201);
    const response = await consoleCall('GET', `/console/tenants/${tenant.slug}`);
    expect(response.status).toBe(200);
    expect(figureOf(response.text, 'devices').text).toBe(String(DEVICES));

    const expected: Record<string, string> = {
      secure: newestOf(SECURE_SCHEMA),
      reliable: newestOf(RELIABLE_SCHEMA),
      edge: newestOf(edgeSchema('postgres')),
    };
    for (const [store, name] of Object.entries(expected)) {
      expect([store, figureOf(storeRow(response.text, 'migrations', store), 'migration').text]).toEqual([store, name]);
    }
    // The tenants page loads each row's versions once shown (htmx): the same, as versions.
    const list = await consoleCall('GET', `/console/tenants?q=${tenant.slug}`);
    expect(list.text).toContain(`hx-get="/console/tenants/${tenant.slug}/migrations"`);
    const cell = await consoleCall('GET', `/console/tenants/${tenant.slug}/migrations`);
    expect(cell.status).toBe(200);
    for (const [store, name] of Object.entries(expected)) {
      const version = new RegExp(
        `<span\\s+data-store="${store}"\\s+data-figure="migration"\\s+title="([^"]+)"\\s*>([^<]*)<`,
      ).exec(cell.text);
      expect([store, version?.[1], version?.[2]?.trim()]).toEqual([store, name, `${store} ${name.slice(-13)}`]);
    }
    // The same as the tenant's own migrations table says.
    const [recorded] = await stack.tenantSql<{ name: string }>(
      tenant.slug,
      'reliable',
      'SELECT name FROM reliable_migrations ORDER BY timestamp DESC LIMIT 1',
    );
    expect(recorded!.name).toBe(expected['reliable']);

    const rate = figureOf(response.text, 'error-rate');
    expect(rate.attributes).toMatch(/data-requests="\d+"/);
    expect(rate.attributes).toContain('data-errors="0"');
    expect(response.text).toContain('<button id="verify-audit" type="submit">');
    // The tenant's readings waiting in the edge store's stream: none once the stored ones are in
    // (edge-store/test/tenant-backlog.int.spec.ts counts a real backlog).
    expect(figureOf(response.text, 'ingest').text).toMatch(/^\d+ readings? waiting/);
    await eventually(
      async () =>
        figureOf((await consoleCall('GET', `/console/tenants/${tenant.slug}`)).text, 'ingest').text ===
        '0 readings waiting',
      { what: "the tenant's ingest backlog at 0" },
    );
  });

  it('console insights - verify audit chain: ok for an intact chain, the failure once a record is changed in SQL; both in the admin audit', async () => {
    const intact = await verify('full');
    expect(intact.status).toBe(200);
    expect(intact.text).toMatch(/<p\s+id="audit-verdict"\s+data-valid="true"\s+data-mode="full"/);
    expect(intact.text).toMatch(/data-checked="[1-9]\d*"/);
    expect(intact.text).toMatch(/>\s*ok\s*<span class="note">/);

    await stack.tenantSql(
      tenant.slug,
      'secure',
      `UPDATE audit_entries SET outcome = 'tampered' WHERE seq = (SELECT MIN(seq) FROM audit_entries)`,
    );
    const broken = await verify('full');
    expect(broken.status).toBe(200);
    expect(broken.text).toMatch(/<p\s+id="audit-verdict"\s+data-valid="false"/);
    expect(broken.text).toContain('record modified');

    const bad = await verify('everything');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('mode');

    const rows = await pgQuery<{ target: string; outcome: string; detail: { valid?: boolean } | null }>(
      `SELECT target, outcome, detail FROM admin_audit WHERE action = 'audit.verify' ORDER BY id`,
      [],
      systemDb,
    );
    expect(rows.map((r) => [r.target, r.outcome, r.detail?.valid])).toEqual([
      [tenant.slug, 'ok', true],
      [tenant.slug, 'AUDIT_CHAIN_INVALID', false],
      [tenant.slug, 'VALIDATION_FAILED', undefined],
    ]);
  });

  it('console insights - a stopped store shows down on the overview, and on the tenant page costs its figures only (with the reason), errors counted', async () => {
    await stack.app('reliable-store').stop('SIGTERM');
    try {
      const failed = await tenantCall('GET', '/v1/devices');
      expect(failed.status).toBeGreaterThanOrEqual(500);
      const overview = await eventually(
        async () => {
          const res = await consoleCall('GET', '/console/overview');
          return res.text.includes('<li data-store="reliable" data-state="down">') ? res : undefined;
        },
        { timeoutMs: 10_000, what: 'the reliable store down on the overview' },
      );
      expect(overview.status).toBe(200);
      expect(overview.text).toContain('<li data-store="secure" data-state="ok">');

      const started = Date.now();
      const response = await consoleCall('GET', `/console/tenants/${tenant.slug}`);
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(response.status).toBe(200);
      const devices = figureOf(response.text, 'devices');
      expect([devices.text, devices.attributes]).toEqual(['—', expect.stringContaining('data-missing="true"')]);
      expect(devices.attributes).toMatch(/title="the store did not answer: (SERVICE_UNAVAILABLE|DEADLINE_EXCEEDED)"/);
      expect(figureOf(storeRow(response.text, 'migrations', 'reliable'), 'migration').text).toBe('—');
      expect(figureOf(storeRow(response.text, 'migrations', 'secure'), 'migration').text).toBe(newestOf(SECURE_SCHEMA));
      const rate = figureOf(response.text, 'error-rate');
      expect(Number(/data-errors="(\d+)"/.exec(rate.attributes)?.[1])).toBeGreaterThanOrEqual(1);

      const list = await consoleCall('GET', `/console/tenants?q=${tenant.slug}`);
      expect(list.status).toBe(200);
      expect(figureOf(list.text, 'error-rate').attributes).toMatch(/data-errors="[1-9]\d*"/);
    } finally {
      await stack.startApp('reliable-store');
    }
  }, 30_000);
});
