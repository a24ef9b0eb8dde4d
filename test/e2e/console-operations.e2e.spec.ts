import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { placementLockKey } from '#polystore/catalog';
import { Contracts } from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { ConsoleClient, type ConsoleCallOptions } from '../support/console.js';
import { eventually } from '../support/eventually.js';
import { uniqueToken } from '../support/ids.js';
import { mariaQuery } from '../support/mariadb.js';
import { PrivateMariaDb } from '../support/mariadb-server.js';
import { stackClient } from '../support/nats.js';
import { pgQuery } from '../support/pg.js';
import { startOpsWorker, type OpsWorkerProcess } from '../support/ops-worker.js';
import { PrivatePostgres } from '../support/postgres-server.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';

/** Short leases, so a killed worker's operation is taken over within seconds. */
const LEASE_MS = 1_500;

/** The state of the `#operation` section of an operation page or its progress fragment. */
function stateOf(page: string): string | undefined {
  return /<section id="operation" data-operation="[^"]+" data-state="([a-z]+)"/.exec(page)?.[1];
}

/** A finished move's page: writes paused under 5 s, at least `rows` rows copied. */
function expectMoveTotals(page: string, rows: number): void {
  const paused = Number(/<dd id="writes-paused">(\d+) ms<\/dd>/.exec(page)?.[1]);
  expect(paused).toBeGreaterThanOrEqual(0);
  expect(paused).toBeLessThan(5_000);
  expect(Number(/<dd id="rows-copied">(\d+)<\/dd>/.exec(page)?.[1])).toBeGreaterThanOrEqual(rows);
}

function phasesOf(page: string): string[] {
  return [...page.matchAll(/<li data-phase="([^"]+)"/g)].map((m) => m[1]!);
}

/**
 * Long actions from the console (docs/console.md, "Long actions"): a placement moved and a
 * tenant's migrations run. The console records the intent in the catalog; `polystore ops worker`
 * (the real CLI process, holding the administrative access the gateway does not) runs it, and the
 * operation's page shows its phases, then the write pause and totals. A private system database
 * (its catalog holds only this suite's tenants and operations), a private PostgreSQL server as the
 * secure store's dedicated target and a private MariaDB server as the reliable store's, each made
 * known to the catalog by a tenant placed there.
 */
describe('console operations - move a placement and run migrations from the console, run by ops worker (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  const systemUrl = new URL(TestServices.systemDbUrl);
  systemUrl.pathname = `/${systemDb}`;
  let dedicated: PrivatePostgres;
  let mariadb: PrivateMariaDb;
  /** The private MariaDB's server id (`mysql://127.0.0.1:<port>`), as the catalog and the console name it. */
  let mariaTarget: string;
  let stack: TestStack;
  let tenant: TestTenant;
  let customers: string[];
  let cookie: string;
  let konsole: ConsoleClient;
  let csrf: string;
  let target: string;
  const workers: OpsWorkerProcess[] = [];

  const system = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    pgQuery<R>(sql, params, systemDb);

  const consoleCall = (method: string, path: string, options: ConsoleCallOptions = {}) =>
    konsole.call(method, path, { ...options, session: options.session === undefined ? cookie : options.session });

  const requestMove = (slug: string, form: Record<string, string> = {}, store = 'secure') =>
    consoleCall('POST', `/console/tenants/${slug}/placements/${store}/move`, {
      form: { _csrf: csrf, targetKind: 'dedicated', targetServer: target, ...form },
    });

  /** The operation id of a request's `303` to its page. */
  function operationOf(response: { status: number; headers: Record<string, unknown>; text: string }): string {
    expect(response.status).toBe(303);
    const location = String(response.headers['location']);
    const match = /^\/console\/operations\/([0-9a-f-]{36})$/.exec(location);
    if (!match) throw new Error(`unexpected location ${location}`);
    return match[1]!;
  }

  /** Reloads the operation's page (no JavaScript) until it is final; returns that page. */
  const finalPage = (id: string, timeoutMs = 30_000) =>
    eventually(
      async () => {
        const page = await consoleCall('GET', `/console/operations/${id}`);
        expect(page.status).toBe(200);
        const state = stateOf(page.text);
        return state === 'succeeded' || state === 'failed' ? page.text : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `operation ${id} finished` },
    );

  const startWorker = async (): Promise<OpsWorkerProcess> => {
    const worker = await startOpsWorker(
      stack.cliEnv({ INSTANCE_ID: `ops-${uniqueToken(4)}`, OPS_LEASE_MS: String(LEASE_MS), OPS_POLL_MS: '100' }),
    );
    workers.push(worker);
    return worker;
  };
  const stopWorker = (worker: OpsWorkerProcess) => worker.stop();

  const caller = (t: TestTenant) => (method: string, path: string, body?: unknown) =>
    stack.request({ method, path, body, tenant: t.slug, apiKey: t.apiKey });

  async function tenantWithCustomers(suffix: string, n: number): Promise<{ t: TestTenant; ids: string[] }> {
    const t = await stack.createTenant(suffix);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const created = await caller(t)('POST', '/v1/customers', { name: `C${i}`, email: `c${i}@ops.example` });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    return { t, ids };
  }

  async function expectServed(t: TestTenant, ids: readonly string[]): Promise<void> {
    for (const id of ids) expect((await caller(t)('GET', `/v1/customers/${id}`)).status).toBe(200);
  }

  beforeAll(async () => {
    [dedicated, mariadb, stack] = await Promise.all([
      PrivatePostgres.create(),
      PrivateMariaDb.create(),
      // The gateway provisions tenants in both stores (STORES follows the stores started).
      TestStack.start({
        apps: ['secure-store', 'reliable-store', 'gateway'],
        parallelStart: true,
        env: { SYSTEM_DB_URL: systemUrl.toString() },
      }),
    ]);
    target = `postgres://127.0.0.1:${dedicated.port}`;
    // A tenant with its own database on each private server: from now on the catalog knows them as
    // servers of the secure and the reliable store.
    const seed = await stack.createTenant('seed', [
      { store: 'secure', kind: 'dedicated', server: dedicated.url },
      { store: 'reliable', kind: 'dedicated', server: mariadb.url },
    ]);
    mariaTarget = (await stack.placement(seed.slug, 'reliable')).server;
    expect(mariaTarget).toBe(`mysql://127.0.0.1:${mariadb.port}`);
    ({ t: tenant, ids: customers } = await tenantWithCustomers('moved', 5));
    konsole = new ConsoleClient(stack);
    await konsole.login(`/console/tenants/${tenant.slug}`);
    ({ cookie, csrf } = konsole);
  }, 60_000);

  // A test that failed midway leaves no worker behind to take the next test's operations.
  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await worker.exited;
    }
  });

  afterAll(async () => {
    // The moves keep the old copy (secure: a schema renamed away in the shared database, with its
    // role; reliable: the old tables in a `<db>_m<stamp>` database on the shared MariaDB): dropped here.
    const kept = await system<{ store: string; schema: string; role: string }>(
      `SELECT store, report->>'sourceTablesMovedTo' AS schema, report->'location'->>'before' AS role FROM operations
        WHERE kind = 'move' AND state = 'succeeded' AND report->>'sourceTablesMovedTo' IS NOT NULL`,
    ).catch(() => []);
    await stack?.close();
    for (const { store, schema, role } of kept) {
      if (store === 'reliable') {
        if (/^ps_reliable_[0-9a-f]{32}_m\d{14}$/.test(schema))
          await mariaQuery(`DROP DATABASE IF EXISTS \`${schema}\``);
        continue;
      }
      const name = role.split('.').pop()!;
      if (!/^ps_secure_[0-9a-f]{32}(_m\d{14})?$/.test(schema) || !/^ps_secure_[0-9a-f]{32}$/.test(name)) continue;
      await pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`, [], 'polystore_secure');
      await pgQuery(`DROP OWNED BY "${name}"`, [], 'polystore_secure').catch(() => undefined);
      await pgQuery(`DROP ROLE IF EXISTS "${name}"`).catch(() => undefined);
    }
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
    dedicated?.destroy();
    await mariadb?.destroy();
  });

  it('console operations - without a session 401, without the CSRF token 403, and nothing is queued', async () => {
    const path = `/console/tenants/${tenant.slug}/placements/secure`;
    for (const [method, url] of [
      ['GET', '/console/operations'],
      ['GET', `/console/operations/00000000-0000-4000-8000-000000000000`],
      ['POST', `${path}/move`],
      ['POST', `${path}/migrate`],
    ] as const) {
      const anonymous = await consoleCall(method, url, {
        session: null,
        ...(method === 'POST' ? { form: { _csrf: csrf } } : {}),
      });
      expect(anonymous.status).toBe(401);
    }
    for (const action of ['move', 'migrate']) {
      const forged = await consoleCall('POST', `${path}/${action}`, {
        form: { targetKind: 'dedicated', targetServer: target },
      });
      expect(forged.status).toBe(403);
      expect(forged.text).toContain('CSRF token missing or wrong');
    }
    // A server the catalog does not know for the store (a URL with a password, say) is refused, naming the field.
    const typed = await requestMove(tenant.slug, { targetServer: 'postgres://10.9.9.9:5432' });
    expect(typed.status).toBe(400);
    expect(typed.text).toContain('targetServer');
    expect(await system('SELECT id FROM operations')).toEqual([]);
  });

  it('console operations - the tenant page offers the move (known servers only) and migrations; a move runs through ops worker with its phases and the write pause', async () => {
    const before = await consoleCall('GET', `/console/tenants/${tenant.slug}`);
    expect(before.text).toContain(`data-move="secure"`);
    expect(before.text).toContain(`data-migrate="secure"`);
    expect(before.text).toContain(`<option value="${target}"`);
    expect(before.text).toMatch(/hx-confirm="Move the secure placement of /);
    expect(before.text).not.toContain('password');

    const id = operationOf(await requestMove(tenant.slug));
    // One operation per tenant and store at a time: a second request while it is queued is 409.
    const second = await requestMove(tenant.slug);
    expect(second.status).toBe(409);
    expect(second.text).toContain('OPERATION_IN_PROGRESS');
    expect(second.text).toContain(`already has an operation queued or running (${id})`);

    const queued = await consoleCall('GET', `/console/operations/${id}`);
    expect(stateOf(queued.text)).toBe('queued');
    expect(queued.text).toContain('hx-trigger="every 1s"');
    expect(queued.text).not.toContain('id="no-worker"');
    // Nobody claimed it for over 10 s (aged in the catalog rather than waited for): the page says no worker runs.
    await system(`UPDATE operations SET created_at = now() - interval '11 seconds' WHERE id = $1`, [id]);
    const unclaimed = await consoleCall('GET', `/console/operations/${id}/progress`);
    expect(unclaimed.text).toContain('id="no-worker"');
    expect(unclaimed.text).toContain('npm run cli -- ops worker');

    const worker = await startWorker();
    const done = await finalPage(id);
    expect(stateOf(done)).toBe('succeeded');
    expect(phasesOf(done)).toEqual(
      expect.arrayContaining([
        'queued',
        'resolve placement',
        'pause writes',
        'copy',
        'verify',
        'switch placement',
        'succeeded',
      ]),
    );
    expectMoveTotals(done, customers.length);
    expect(done).not.toContain('hx-trigger');
    expect(worker.stderr()).toContain(`move ${tenant.slug}/secure (${id}) succeeded`);

    // Served from its own server now, and the tenant page says so.
    await expectServed(tenant, customers);
    const after = await consoleCall('GET', `/console/tenants/${tenant.slug}`);
    const placements = /<table id="placements">([\s\S]*?)<\/table>/.exec(after.text)?.[1] ?? '';
    const row = /<tr data-store="secure">([\s\S]*?)<\/tr>/.exec(placements)?.[1] ?? '';
    expect(row).toContain('<td>dedicated</td>');
    expect(row).toContain(`<td>127.0.0.1:${dedicated.port}</td>`);

    const list = await consoleCall('GET', '/console/operations');
    expect(list.text).toMatch(new RegExp(`<tr\\s+data-operation="${id}"\\s+data-state="succeeded"`));
    const audit = await system<{ action: string; outcome: string }>(
      `SELECT action, outcome FROM admin_audit WHERE action = 'placement.move' AND target = $1 ORDER BY id`,
      [tenant.slug],
    );
    expect(audit).toEqual([
      { action: 'placement.move', outcome: 'VALIDATION_FAILED' },
      { action: 'placement.move', outcome: 'ok' },
      { action: 'placement.move', outcome: 'OPERATION_IN_PROGRESS' },
    ]);

    // SIGTERM: the idle worker stops cleanly.
    expect(await stopWorker(worker)).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('console operations - run migrations from the console: succeeded, the number applied reported; of two workers, one runs it', async () => {
    const pair = await Promise.all([startWorker(), startWorker()]);
    const id = operationOf(
      await consoleCall('POST', `/console/tenants/${tenant.slug}/placements/secure/migrate`, { form: { _csrf: csrf } }),
    );
    const done = await finalPage(id);
    expect(stateOf(done)).toBe('succeeded');
    expect(Number(/<dd id="migrations-applied">(\d+)<\/dd>/.exec(done)?.[1])).toBeGreaterThanOrEqual(0);
    expect(phasesOf(done)).toContain('migrate');
    expect(phasesOf(done).filter((p) => p.startsWith('claimed by'))).toHaveLength(1);
    expect(pair.filter((w) => w.stderr().includes(`(${id}) succeeded`))).toHaveLength(1);
    await expectServed(tenant, customers);
    for (const worker of pair) expect(await stopWorker(worker)).toEqual({ code: 0, signal: null });
  }, 30_000);

  it('console operations - a worker killed (SIGKILL) during a move: another takes it over after the lease and it ends final, the tenant served', async () => {
    const { t, ids } = await tenantWithCustomers('killed', 3);
    const id = operationOf(await requestMove(t.slug));
    const first = await startWorker();
    await eventually(() => first.stderr().includes(`(${id}): prepare target`), {
      timeoutMs: 20_000,
      what: 'the move under way',
    });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const running = await system<{ state: string }>('SELECT state FROM operations WHERE id = $1', [id]);
    expect(running).toEqual([{ state: 'running' }]);

    const second = await startWorker();
    const done = await finalPage(id, 30_000);
    const [row] = await system<{
      state: string;
      error_code: string | null;
      error_message: string | null;
      attempts: number;
    }>('SELECT state, error_code, error_message, attempts FROM operations WHERE id = $1', [id]);
    expect(row!.attempts).toBe(2);
    expect(phasesOf(done).some((p) => p.startsWith('taken over by'))).toBe(true);
    const placement = await stack.placement(t.slug, 'secure');
    process.stdout.write(`killed move: ${row!.state} ${row!.error_code ?? ''} ${row!.error_message ?? ''}\n`);
    if (row!.state === 'succeeded') {
      expect(placement.kind).toBe('dedicated');
    } else {
      expect(row).toMatchObject({ state: 'failed', error_code: 'OPERATION_INTERRUPTED' });
      expect(row!.error_message).toContain('the placement was not switched');
      expect(placement.kind).toBe('schema');
      expect(done).toContain('OPERATION_INTERRUPTED');
    }
    await expectServed(t, ids);
    expect(await stopWorker(second)).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('console operations - a worker stopped (SIGTERM) during a move finishes it, claims nothing more and exits 0; the next worker takes what was queued', async () => {
    const { t, ids } = await tenantWithCustomers('termed', 3);
    // The tenant's placement lock, held by the test: the worker's move waits on it right after it
    // started ("resolve placement"), so the signal arrives while the move is surely under way.
    const lock = new pg.Client({ connectionString: systemUrl.toString() });
    await lock.connect();
    let locked = false;
    try {
      const key = placementLockKey('secure', parseTenantSlug(t.slug));
      await lock.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
      locked = true;
      const id = operationOf(await requestMove(t.slug));
      const worker = await startWorker();
      const name = /ops worker (cli:\S+): waiting for operations/.exec(worker.stderr())?.[1];
      expect(name).toBeDefined();
      await eventually(() => worker.stderr().includes(`(${id}): resolve placement`), {
        timeoutMs: 20_000,
        what: 'the move under way',
      });
      // The mover's session waits for the placement lock (an advisory lock in the system database).
      await eventually(
        async () =>
          (
            await system<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = $1)`,
              [systemDb],
            )
          )[0]!.n > 0,
        { what: 'the move waiting for the placement lock' },
      );

      worker.child.kill('SIGTERM');
      await eventually(() => worker.stderr().includes('SIGTERM: stopping'), { what: 'the signal handled' });
      expect(worker.stderr()).toContain(
        'SIGTERM: stopping; no new operation is claimed, a move under way runs to its end',
      );
      expect(worker.child.exitCode).toBeNull();
      expect(await system('SELECT state, attempts FROM operations WHERE id = $1', [id])).toEqual([
        { state: 'running', attempts: 1 },
      ]);
      // Queued after the signal: the stopping worker must leave it to the next one.
      const migrateId = operationOf(
        await consoleCall('POST', `/console/tenants/${t.slug}/placements/reliable/migrate`, { form: { _csrf: csrf } }),
      );

      await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      locked = false;
      expect(await worker.exited).toEqual({ code: 0, signal: null });

      // The move ran to its end under the same worker and lease: no second attempt, nothing released.
      const done = await finalPage(id, 5_000);
      const [row] = await system<{
        state: string;
        attempts: number;
        worker: string;
        error_code: string | null;
        report: { rowsCopied: number; kind: { before: string; after: string } };
      }>('SELECT state, attempts, worker, error_code, report FROM operations WHERE id = $1', [id]);
      expect(row).toMatchObject({
        state: 'succeeded',
        attempts: 1,
        worker: name,
        error_code: null,
        report: { kind: { before: 'schema', after: 'dedicated' } },
      });
      expect(row!.report.rowsCopied).toBeGreaterThanOrEqual(ids.length);
      const phases = phasesOf(done);
      expect(phases).toEqual(
        expect.arrayContaining(['prepare target', 'pause writes', 'copy', 'verify', 'switch placement', 'succeeded']),
      );
      expect(phases.filter((p) => /^(taken over|released) by/.test(p))).toEqual([]);
      // In the worker's own order: the signal, then the whole move, then the stop, and no claim after the signal.
      const log = worker.stderr();
      const at = (line: string) => {
        const index = log.indexOf(line);
        expect({ line, found: index >= 0 }).toEqual({ line, found: true });
        return index;
      };
      const signalled = at('SIGTERM: stopping');
      expect(signalled).toBeLessThan(at(`(${id}): prepare target`));
      expect(at(`(${id}): prepare target`)).toBeLessThan(at(`move ${t.slug}/secure (${id}) succeeded`));
      expect(at(`move ${t.slug}/secure (${id}) succeeded`)).toBeLessThan(at(`ops worker ${name}: stopped`));
      expect(log.slice(signalled)).not.toMatch(/ops worker: (claimed|took over) /);

      const placement = await stack.placement(t.slug, 'secure');
      expect(placement).toMatchObject({ kind: 'dedicated', server: target });
      await expectServed(t, ids);

      // The migration queued meanwhile was not claimed; the next worker runs it.
      expect(await system('SELECT state, worker, attempts FROM operations WHERE id = $1', [migrateId])).toEqual([
        { state: 'queued', worker: null, attempts: 0 },
      ]);
      const next = await startWorker();
      expect(stateOf(await finalPage(migrateId))).toBe('succeeded');
      // The worker prints the outcome after recording it: wait for the line, not for the record.
      await eventually(() => next.stderr().includes(`migrate ${t.slug}/reliable (${migrateId}) succeeded`), {
        what: "the worker's line for the migration",
      });
      expect(await stopWorker(next)).toEqual({ code: 0, signal: null });
    } finally {
      if (locked) await lock.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      await lock.end();
    }
  }, 60_000);

  it('console operations - a reliable (MariaDB) placement moved from the console: a database on the shared server becomes dedicated on another MariaDB; its devices still read', async () => {
    const t = await stack.createTenant('maria');
    const before = await stack.placement(t.slug, 'reliable');
    expect(before).toMatchObject({ kind: 'database', server: `mysql://${new URL(TestServices.mariadbUrl).host}` });
    // Devices written to the reliable store (its own contract over the bus: the API's registration
    // saga needs the edge store too, which this stack does not run).
    const { nc, client } = await stackClient(stack.prefix, 5_000);
    const devices: string[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const device = await runAsTenant(parseTenantSlug(t.slug), () =>
          client.request(Contracts.reliable.devices.create, {
            idempotencyKey: `maria-${i}`,
            name: `meter-${i}`,
            model: 'EM-340',
          }),
        );
        devices.push(device.id);
      }
    } finally {
      await nc.drain();
    }
    const read = (id: string) => caller(t)('GET', `/v1/devices/${id}`);
    for (const id of devices) expect((await read(id)).status).toBe(200);

    // The tenant page offers the reliable move: the store's kinds (a schema too: the reliable store
    // also runs on PostgreSQL) and its known servers only.
    const page = await consoleCall('GET', `/console/tenants/${t.slug}`);
    expect(page.text).toContain(`data-move="reliable"`);
    const kinds = /<select name="targetKind" data-move-kind="reliable"[^>]*>([\s\S]*?)<\/select/.exec(page.text)?.[1];
    expect([...(kinds ?? '').matchAll(/<option value="([a-z]+)"/g)].map((m) => m[1])).toEqual(
      expect.arrayContaining(['database', 'dedicated']),
    );
    const servers = /<select name="targetServer" data-move-server="reliable"[^>]*>([\s\S]*?)<\/select/.exec(
      page.text,
    )?.[1];
    expect([...(servers ?? '').matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual(
      [before.server, mariaTarget].sort(),
    );
    // A schema on a MariaDB server is refused (PostgreSQL only), nothing queued.
    const schema = await requestMove(t.slug, { targetKind: 'schema', targetServer: mariaTarget }, 'reliable');
    expect(schema.status).toBe(400);
    expect(schema.text).toContain('targetKind schema needs a PostgreSQL server');

    const id = operationOf(await requestMove(t.slug, { targetServer: mariaTarget }, 'reliable'));
    expect(await system(`SELECT id FROM operations WHERE tenant_slug = $1`, [t.slug])).toEqual([{ id }]);
    const worker = await startWorker();
    const done = await finalPage(id);
    expect(stateOf(done)).toBe('succeeded');
    expect(phasesOf(done)).toEqual(
      expect.arrayContaining([
        'queued',
        'resolve placement',
        'prepare target',
        'pause writes',
        'copy',
        'verify',
        'rename old tables',
        'switch placement',
        'drop source',
        'succeeded',
      ]),
    );
    expectMoveTotals(done, devices.length);
    expect(worker.stderr()).toContain(`move ${t.slug}/reliable (${id}) succeeded`);
    const [operation] = await system<{ report: Record<string, unknown> }>(
      'SELECT report FROM operations WHERE id = $1',
      [id],
    );
    expect(operation?.report).toMatchObject({
      store: 'reliable',
      from: before.server,
      to: mariaTarget,
      kind: { before: 'database', after: 'dedicated' },
      placementVersion: { before: before.version, after: before.version + 1 },
      sourceTablesMovedTo: expect.stringMatching(new RegExp(`^${before.database}_m\\d{14}$`)),
    });

    // The catalog points at the private server; the data is there, and gone from the shared one.
    const after = await stack.placement(t.slug, 'reliable');
    expect(after).toMatchObject({
      kind: 'dedicated',
      server: mariaTarget,
      database: before.database,
      version: before.version + 1,
    });
    const moved = await mariaQuery<{ id: string }>('SELECT id FROM devices', [], before.database, mariadb.url);
    expect(moved.map((r) => r.id).sort()).toEqual([...devices].sort());
    expect(
      await mariaQuery('SELECT schema_name FROM information_schema.schemata WHERE schema_name = ?', [before.database]),
    ).toEqual([]);
    // Served from there: the store may try the old copy once before the change event arrives (a 503, docs/operations.md).
    await eventually(async () => (await read(devices[0]!)).status === 200, {
      timeoutMs: 10_000,
      what: 'the device read after the move',
    });
    for (const id of devices) {
      const device = await read(id);
      expect(device.status).toBe(200);
      expect(device.body).toMatchObject({ id, model: 'EM-340' });
    }
    expect(await stopWorker(worker)).toEqual({ code: 0, signal: null });
  }, 60_000);
});
