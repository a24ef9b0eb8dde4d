import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConsoleClient } from '../support/console.js';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { uniqueToken } from '../support/ids.js';
import { parseExposition, sampleSum } from '../support/metrics-lint.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TestStack, type AppName, type TestTenant } from '../support/stack.js';

const APPS: readonly AppName[] = ['secure-store', 'reliable-store', 'edge-store', 'gateway'];
/** The secure store's server URL carries a user and a password (PostgreSQL trusts loopback: it is not checked). */
const PASSWORD = `pw-${uniqueToken(10)}`;

/** The `<tr data-<attribute>="value" ...>...</tr>` of a page (the rows are not nested). */
function rowOf(page: string, attribute: string, value: string): string | undefined {
  const start = page.indexOf(`<tr data-${attribute}="${value}"`);
  return start < 0 ? undefined : page.slice(start, page.indexOf('</tr>', start) + 5);
}

/** Every `data-<attribute>` value of `<tr>` rows, in page order. */
function rowsOf(page: string, attribute: string): string[] {
  return [...page.matchAll(new RegExp(`<tr data-${attribute}="([^"]+)"`, 'g'))].map((m) => m[1]!);
}

/** The number in a row's `data-figure` cell (`12`, or `12 / 40` for a figure against a limit). */
function figure(row: string, name: string): string {
  const match = new RegExp(`data-figure="${name}"[^>]*>([^<]*)<`).exec(row);
  if (!match) throw new Error(`no ${name} figure in ${row}`);
  return match[1]!.trim();
}

/**
 * The console's servers and jobs pages (docs/console.md) on a whole stack: every store's servers
 * with the figures the stores count (checked against their own /metrics), a stopped store shown
 * `down` while the others render, no user or password of a server URL in the page; the runs of
 * the job this suite schedules, with their tenant counts as the catalog's `job_runs` has them.
 * The suite has its own system database, so its scheduler runs jobs over its own tenant only.
 */
describe('console ops - the servers and jobs pages of the console (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let stack: TestStack;
  let tenant: TestTenant;
  let cookie: string;

  const page = (path: string, session: string | null = cookie, port?: number) =>
    new ConsoleClient(stack).call('GET', path, { session, ...(port ? { port } : {}) });
  const metrics = async (app: AppName) =>
    parseExposition((await httpRequest({ port: stack.app(app).port, path: '/metrics' })).text).families;

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    const secureUrl = new URL(TestServices.postgresUrl);
    secureUrl.password = PASSWORD;
    stack = await TestStack.start({
      apps: APPS,
      parallelStart: true,
      env: {
        SYSTEM_DB_URL: systemUrl.toString(),
        SECURE_SERVER_URL: secureUrl.toString(),
        JOBS: 'idempotency-purge',
        JOB_INTERVALS: 'idempotency-purge=1000',
        JOB_TICK_MS: '100',
        TELEMETRY_FILL_CHECK_MS: '200',
      },
    });
    tenant = await stack.createTenant('ops');
    const konsole = new ConsoleClient(stack);
    await konsole.login();
    cookie = konsole.cookie;
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  });

  it('console ops - without the session cookie both pages are 401; on the public port 404', async () => {
    for (const path of ['/console/servers', '/console/jobs', '/console/jobs?job=idempotency-purge']) {
      const anonymous = await page(path, null);
      expect([path, anonymous.status]).toEqual([path, 401]);
      expect(anonymous.text).toContain('href="/console/login"');
      expect(anonymous.headers['x-frame-options']).toBe('DENY');
      expect([path, (await page(path, 'v1.1.bad.mac')).status]).toEqual([path, 401]);
      expect([path, (await page(path, cookie, stack.gatewayPort)).status]).toEqual([path, 404]);
    }
  });

  it('console ops - servers: a row per store and server with the figures the stores count, the telemetry stream; no user or password', async () => {
    const created = await stack.request({
      method: 'POST',
      path: '/v1/customers',
      body: { name: 'Ada', email: 'ada@example.com' },
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
    });
    expect(created.status).toBe(201);
    const device = await stack.request({
      method: 'POST',
      path: '/v1/devices',
      body: { name: 'meter', model: 'EM-340' },
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
    });
    expect(device.status).toBe(201);

    const pg = new URL(TestServices.postgresUrl);
    const maria = new URL(TestServices.mariadbUrl);
    const servers = {
      secure: `secure:${pg.hostname}:${pg.port || 5432}`,
      reliable: `reliable:${maria.hostname}:${maria.port || 3306}`,
      edge: `edge:${pg.hostname}:${pg.port || 5432}`,
    };
    // The secure store's units are read from its /metrics before and after the page: the page's
    // figure lies between (the scheduled job keeps using the pools).
    const before = await metrics('secure-store');
    const response = await eventually(
      async () => {
        const res = await page('/console/servers');
        return res.status === 200 && rowOf(res.text, 'stream', 'telemetry') && rowOf(res.text, 'server', servers.edge)
          ? res
          : undefined;
      },
      { timeoutMs: 10_000, what: 'the servers page with every store and the telemetry stream' },
    );
    const after = await metrics('secure-store');
    const html = response.text;
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(rowsOf(html, 'server').sort()).toEqual(Object.values(servers).sort());

    const secure = rowOf(html, 'server', servers.secure)!;
    expect(secure).toContain('data-state="ok"');
    expect(secure).toContain('<td class="kind">shared</td>');
    const serverId = `postgres://${pg.hostname}:${pg.port || 5432}`;
    const units = Number(figure(secure, 'units'));
    expect(units).toBeGreaterThan(0);
    expect(units).toBeGreaterThanOrEqual(
      sampleSum(before, 'polystore_shared_pool_units_total', { store: 'secure', server: serverId }) ?? NaN,
    );
    expect(units).toBeLessThanOrEqual(
      sampleSum(after, 'polystore_shared_pool_units_total', { store: 'secure', server: serverId }) ?? NaN,
    );
    expect(Number(figure(secure, 'budget'))).toBe(
      sampleSum(after, 'polystore_datasources_capacity', { store: 'secure', server: serverId }),
    );
    // Probed for the budget: PostgreSQL's max_connections less its superuser reserve.
    const [limits] = await pgQuery<{ usable: number }>(
      "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int AS usable",
    );
    expect(figure(secure, 'max-connections')).toBe(String(limits!.usable));
    for (const name of ['in-use', 'idle', 'waiting', 'busy', 'evictions'])
      expect(figure(secure, name)).toMatch(/^\d+$/);
    expect(Number(figure(rowOf(html, 'server', servers.reliable)!, 'units'))).toBeGreaterThan(0);

    const stream = rowOf(html, 'stream', 'telemetry')!;
    expect(figure(stream, 'messages')).toMatch(/^\d+ \/ (\d+|—)$/);
    expect(figure(stream, 'bytes')).toMatch(/^\d+ \/ \d+$/);
    expect(figure(stream, 'fill')).toMatch(/^\d+\.\d%$/);

    // The gateway's SECURE_SERVER_URL has a user and a password, the catalog's placement the user
    // (the stores get the URL from there): the page has neither.
    const [placement] = await pgQuery<{ server_url: string }>(
      "SELECT server_url FROM placements p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = $1 AND p.store = 'secure'",
      [tenant.slug],
      systemDb,
    );
    expect(placement!.server_url).toContain('root@');
    expect(html).not.toContain(PASSWORD);
    expect(html).not.toMatch(/\broot\b/);
    expect(html).not.toMatch(/[a-z]+:\/\/[^\s"<]*@/);
    expect(html).toContain('<a href="/console/servers">Servers</a>');
    expect(html).toContain('<a href="/console/jobs">Jobs</a>');
  });

  it('console ops - jobs: the scheduled job runs with their tenant counts from job_runs, its next run; a filter by job', async () => {
    const run = await eventually(
      async () =>
        (
          await pgQuery<{ id: string; total: number; ok: number; failed: number; skipped: number; owner: string }>(
            "SELECT id, total, ok, failed, skipped, owner FROM job_runs WHERE job = 'idempotency-purge' AND state = 'FINISHED' AND ok >= 1 ORDER BY created_at DESC LIMIT 1",
            [],
            systemDb,
          )
        )[0],
      { timeoutMs: 15_000, what: 'a finished idempotency-purge run over the tenant' },
    );
    const all = await page('/console/jobs');
    expect(all.status).toBe(200);
    const row = rowOf(all.text, 'run', run.id);
    expect(row).toBeDefined();
    expect(row).toContain('data-job="idempotency-purge"');
    expect(row).toContain('data-state="FINISHED"');
    expect([figure(row!, 'total'), figure(row!, 'ok'), figure(row!, 'failed'), figure(row!, 'skipped')]).toEqual(
      [run.total, run.ok, run.failed, run.skipped].map(String),
    );
    expect(row).toContain(run.owner);
    const schedule = rowOf(all.text, 'job', 'idempotency-purge')!;
    expect(schedule).toContain('<td>1 s</td>');
    const next = /data-next="([^"]+)"/.exec(schedule)![1]!;
    expect(Math.abs(Date.parse(next) - Date.now())).toBeLessThan(5_000);
    expect(rowOf(all.text, 'job', 'usage-rollup')).toContain('not scheduled by this gateway');

    const filtered = await page('/console/jobs?job=usage-rollup');
    expect(filtered.status).toBe(200);
    expect(rowsOf(filtered.text, 'run')).toEqual([]);
    const only = await page('/console/jobs?job=idempotency-purge');
    expect(rowsOf(only.text, 'run')).toContain(run.id);
    expect(new Set([...only.text.matchAll(/<tr data-run="[^"]+" data-job="([^"]+)"/g)].map((m) => m[1]))).toEqual(
      new Set(['idempotency-purge']),
    );
    const bad = await page('/console/jobs?job=DROP%20TABLE');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('job must be a job name');

    // The run's page: each tenant's outcome as job_run_tenants holds it; the run is linked from the list.
    expect(row).toContain(`href="/console/jobs/${run.id}"`);
    const detail = await page(`/console/jobs/${run.id}`);
    expect(detail.status).toBe(200);
    const outcomes = [...detail.text.matchAll(/<tr\s+data-tenant="([^"]+)"\s+data-status="([^"]+)"/g)].map(
      (m) => `${m[1]}:${m[2]}`,
    );
    const recorded = await pgQuery<{ tenant: string; status: string }>(
      'SELECT tenant, status FROM job_run_tenants WHERE run_id = $1',
      [run.id],
      systemDb,
    );
    expect(outcomes.sort()).toEqual(recorded.map((r) => `${r.tenant}:${r.status}`).sort());
    expect(outcomes).toContain(`${tenant.slug}:ok`);
    expect((await page('/console/jobs/not-a-uuid')).status).toBe(400);
    const unknown = await page(`/console/jobs/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('JOB_RUN_NOT_FOUND');
    expect((await page(`/console/jobs/${run.id}`, null)).status).toBe(401);
  });

  it('console ops - a stopped store is shown down with its error code, the others still render; its failed job runs are highlighted', async () => {
    await stack.app('secure-store').stop('SIGTERM');
    try {
      const started = Date.now();
      const response = await page('/console/servers');
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(response.status).toBe(200);
      const pg = new URL(TestServices.postgresUrl);
      const maria = new URL(TestServices.mariadbUrl);
      // Down, the store's row shows the server the gateway places its tenants on (from a URL with a password).
      const down = rowOf(response.text, 'server', `secure:${pg.hostname}:${pg.port || 5432}`)!;
      expect(down).toContain('data-state="down"');
      expect(down).toMatch(/<code class="code">(SERVICE_UNAVAILABLE|DEADLINE_EXCEEDED)<\/code>/);
      expect(down).toContain('<td class="health down">down</td>');
      expect(response.text).not.toContain(PASSWORD);
      expect(response.text).not.toMatch(/\broot\b/);
      expect(rowOf(response.text, 'server', `reliable:${maria.hostname}:${maria.port || 3306}`)).toContain(
        'data-state="ok"',
      );
      expect(rowOf(response.text, 'server', `edge:${pg.hostname}:${pg.port || 5432}`)).toContain('data-state="ok"');

      // The job's next run fails for the tenant (its secure store does not answer): highlighted.
      const failed = await eventually(
        async () => {
          const jobs = await page('/console/jobs?job=idempotency-purge');
          const id = [
            ...jobs.text.matchAll(/<tr data-run="([^"]+)" data-job="[^"]+" data-state="FINISHED" class="failed"/g),
          ][0]?.[1];
          return id ? { id, row: rowOf(jobs.text, 'run', id)! } : undefined;
        },
        { timeoutMs: 15_000, what: 'a failed run highlighted on the jobs page' },
      );
      expect(Number(figure(failed.row, 'failed'))).toBeGreaterThanOrEqual(1);
      const [stored] = await pgQuery<{ total: number; ok: number; failed: number; skipped: number }>(
        'SELECT total, ok, failed, skipped FROM job_runs WHERE id = $1',
        [failed.id],
        systemDb,
      );
      expect(['total', 'ok', 'failed', 'skipped'].map((name) => figure(failed.row, name))).toEqual(
        [stored!.total, stored!.ok, stored!.failed, stored!.skipped].map(String),
      );
      // Its page names the tenant that failed, first, with the error the job recorded.
      const detail = await page(`/console/jobs/${failed.id}`);
      const first = /<tr\s+data-tenant="([^"]+)"\s+data-status="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/.exec(detail.text);
      expect([first?.[1], first?.[2]]).toEqual([tenant.slug, 'failed']);
      const [error] = await pgQuery<{ code: string }>(
        "SELECT error->>'code' AS code FROM job_run_tenants WHERE run_id = $1 AND tenant = $2",
        [failed.id, tenant.slug],
        systemDb,
      );
      expect(first?.[3]).toContain(`<code>${error!.code}</code>`);
    } finally {
      await stack.startApp('secure-store');
    }
  }, 40_000);
});
