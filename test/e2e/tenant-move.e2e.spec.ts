import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CatalogService, StoreName } from '#polystore/catalog';
import { DatabaseAdmin } from '#polystore/data-router';
import { parseTenantSlug } from '#polystore/tenancy';
import pg from 'pg';
import type { TenantMover } from '../../apps/cli/src/move/tenant-mover.js';
import type { MoveReport } from '../../apps/cli/src/move/move-report.js';
import { SECURE_SCHEMA } from '../../apps/secure-store/src/secure.schema.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/mariadb-server.js';
import { PrivatePostgres } from '../support/postgres-server.js';
import { openMover, type TestMover } from '../support/mover.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { customerWriter } from '../support/writer.js';

const SHARED_SERVER = new URL(TestServices.postgresUrl);

/** A client of one database on one server (the shared one unless `port` says otherwise). */
async function connectTo(database: string, port = Number(SHARED_SERVER.port || 5432)): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'root', database, connectionTimeoutMillis: 3_000 });
  await client.connect();
  return client;
}

describe('tenant move - a tenant moved to another PostgreSQL server while the stack runs (e2e)', () => {
  let target: PrivatePostgres;
  let stack: TestStack;
  let moving: TestMover;
  let catalog: CatalogService;
  let mover: TenantMover;
  /** Old copies left on the shared server (kept, refusing connections): dropped at the end. */
  const leftBehind: string[] = [];

  beforeAll(async () => {
    target = await PrivatePostgres.create();
    stack = await TestStack.start({ apps: ['secure-store', 'gateway'] });
    moving = await openMover(stack, 'tenant-move-test', SECURE_SCHEMA);
    ({ mover, catalog } = moving);
  });

  afterAll(async () => {
    await stack?.close();
    for (const database of leftBehind) await DatabaseAdmin.dropDatabase(TestServices.postgresUrl, database);
    await moving?.close();
    target?.destroy();
  });

  const caller = (t: TestTenant) => (method: string, path: string, body?: unknown) =>
    stack.request({ method, path, body, tenant: t.slug, apiKey: t.apiKey });

  const placementOf = (slug: string, store: StoreName = 'secure') =>
    catalog.getPlacementFresh(parseTenantSlug(slug), store);

  /**
   * A tenant whose secure data is a database of its own (the `database` kind: what the mover
   * moves), and that database's name, as the admin API lists it.
   */
  const tenantWithDatabase = async (suffix: string): Promise<{ tenant: TestTenant; database: string }> => {
    const tenant = await stack.createTenant(suffix, [{ store: 'secure', kind: 'database' }]);
    const placement = await stack.placement(tenant.slug, 'secure');
    expect(placement).toMatchObject({ kind: 'database', server: `postgres://127.0.0.1:${SHARED_SERVER.port || 5432}` });
    expect(placement.schema).toBeUndefined();
    return { tenant, database: placement.database };
  };

  /** `npm run cli` with this stack's environment. */
  const cli = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['dist/apps/cli/src/main.js', ...args], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: { ...stack.env('gateway'), INSTANCE_ID: 'cli-move', LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  it('tenant move - served from the new server afterwards; no acknowledged write, before or during the move, is missing', async () => {
    const { tenant, database } = await tenantWithDatabase('move');
    const call = caller(tenant);
    const before: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await call('POST', '/v1/customers', { name: `Before ${i}`, email: `before-${i}@example.com` });
      expect(created.status).toBe(201);
      before.push(created.body.id as string);
    }
    const placementBefore = await placementOf(tenant.slug);
    const pids = { store: stack.app('secure-store').child.pid, gateway: stack.app('gateway').child.pid };

    const writers = [customerWriter(call), customerWriter(call)];
    const acknowledged = () => writers.reduce((sum, w) => sum + w.ids.length, 0);
    await eventually(() => acknowledged() >= 10, { what: 'writes under way before the move' });

    const phases: string[] = [];
    let report: MoveReport;
    try {
      report = await mover.move({
        slug: tenant.slug,
        store: 'secure',
        to: target.url,
        onProgress: (p) => phases.push(p),
      });
      leftBehind.push(database);
      const atSwitch = acknowledged();
      // Writes keep being acknowledged after the switch: by the new server.
      await eventually(() => acknowledged() >= atSwitch + 20, { timeoutMs: 20_000, what: 'writes after the move' });
    } finally {
      await Promise.all(writers.map((w) => w.stop()));
    }

    // The report: new server, version + 1, every table verified, the pause measured.
    expect(report).toMatchObject({
      tenant: tenant.slug,
      store: 'secure',
      database,
      from: placementBefore.serverId,
      to: `postgres://127.0.0.1:${target.port}`,
      placementVersion: { before: placementBefore.version, after: placementBefore.version + 1 },
      sourceDatabase: 'kept, refusing connections',
    });
    expect(JSON.stringify(report)).not.toMatch(/root@/);
    const customers = report.tables.find((t) => t.table === 'customers')!;
    expect(customers.source.rows).toBeGreaterThanOrEqual(before.length);
    for (const table of report.tables) expect(table.target).toEqual(table.source);
    expect(report.tables.map((t) => t.table).sort()).toEqual(
      [
        'audit_entries',
        'audit_head',
        'customer_keys',
        'customers',
        'device_credentials',
        'idempotency_keys',
        'tenant_keys',
      ].sort(),
    );
    // The secure store had the database open: its sessions were cut at the switch.
    expect(report.sessionsTerminated).toBeGreaterThanOrEqual(1);
    expect(report.writesPausedMs).toBeGreaterThanOrEqual(0);
    expect(report.writesPausedMs).toBeLessThan(3_000);
    expect(phases).toEqual(expect.arrayContaining(['pause writes', 'copy', 'verify', 'switch placement', 'done']));
    process.stdout.write(
      `tenant move: writes paused ${report.writesPausedMs} ms, total ${report.durationMs} ms, ` +
        `${customers.target.rows} customers at the switch, fence attempts ${report.fenceAttempts}, ` +
        `sessions terminated ${report.sessionsTerminated}, writer statuses ${JSON.stringify(
          writers.map((w) => Object.fromEntries(w.statuses)),
        )}\n`,
    );

    // The catalog: the placement points at the new server, one version later, no password stored.
    const after = await placementOf(tenant.slug);
    expect(after).toMatchObject({
      serverId: `postgres://127.0.0.1:${target.port}`,
      version: placementBefore.version + 1,
    });

    // Clients only ever saw 201, or 503 (retryable) while the writes were paused: never a 500.
    for (const writer of writers) expect([...writer.statuses.keys()].every((s) => s === 201 || s === 503)).toBe(true);

    // Every acknowledged write is readable through the gateway, and physically on the new server.
    const during = writers.flatMap((w) => w.ids);
    const all = [...before, ...during];
    const moved = await connectTo(database, target.port);
    try {
      const rows = await moved.query<{ id: string }>('SELECT id::text AS id FROM customers');
      const onNewServer = new Set(rows.rows.map((r) => r.id));
      expect(all.filter((id) => !onNewServer.has(id))).toEqual([]);
    } finally {
      await moved.end();
    }
    for (const id of all) expect((await call('GET', `/v1/customers/${id}`)).status).toBe(200);

    // The old copy refuses connections: no stale process can write to it.
    await expect(connectTo(database)).rejects.toMatchObject({ code: '55000' });

    // The audit chain, carried over and continued on the new server, verifies.
    const verdict = await call('GET', '/v1/audit/verify?mode=full');
    expect(verdict.status).toBe(200);
    expect(verdict.body).toMatchObject({ valid: true, firstInvalidSeq: null });
    expect(verdict.body.checked).toBeGreaterThanOrEqual(all.length * 2);

    // The stack kept running: the same processes, never restarted.
    expect(stack.app('secure-store').isRunning && stack.app('gateway').isRunning).toBe(true);
    expect({ store: stack.app('secure-store').child.pid, gateway: stack.app('gateway').child.pid }).toEqual(pids);
  });

  it('tenant move - a move to an unreachable server fails with a clear error; the tenant stays served from its server', async () => {
    const { tenant, database } = await tenantWithDatabase('stay');
    const call = caller(tenant);
    const created = await call('POST', '/v1/customers', { name: 'Stays', email: 'stays@example.com' });
    expect(created.status).toBe(201);
    const before = await placementOf(tenant.slug);
    const nowhere = await freePort();

    const attempt = mover.move({ slug: tenant.slug, store: 'secure', to: `postgres://root:pw@127.0.0.1:${nowhere}` });
    await expect(attempt).rejects.toMatchObject({
      code: 'MOVE_TARGET_UNREACHABLE',
      message: expect.stringContaining(`postgres://127.0.0.1:${nowhere}`),
    });
    await expect(attempt).rejects.toMatchObject({ message: expect.not.stringContaining('pw') });

    expect(await placementOf(tenant.slug)).toEqual(before);
    expect((await call('GET', `/v1/customers/${created.body.id}`)).status).toBe(200);
    expect((await call('POST', '/v1/customers', { name: 'Still', email: 'still@example.com' })).status).toBe(201);
    const source = await connectTo(database);
    await source.end();
  });

  it('tenant move - refused before anything is touched: same server, unknown store, a target database that has tables', async () => {
    const { tenant, database } = await tenantWithDatabase('refused');
    const before = await placementOf(tenant.slug);
    await expect(
      mover.move({ slug: tenant.slug, store: 'secure', to: TestServices.postgresUrl }),
    ).rejects.toMatchObject({ code: 'MOVE_SAME_SERVER' });
    await expect(mover.move({ slug: tenant.slug, store: 'archive', to: target.url })).rejects.toMatchObject({
      code: 'MOVE_UNKNOWN_STORE',
    });
    await expect(mover.move({ slug: 'e2e-nobody-here', store: 'secure', to: target.url })).rejects.toMatchObject({
      code: 'TENANT_NOT_FOUND',
    });
    await expect(mover.move({ slug: tenant.slug, store: 'secure', to: TestServices.mariadbUrl })).rejects.toMatchObject(
      { code: 'MOVE_DIALECT_MISMATCH' },
    );

    // Someone else's database of that name on the target: refused, and left exactly as it was.
    await DatabaseAdmin.ensureDatabase(target.url, database);
    const theirs = await connectTo(database, target.port);
    try {
      await theirs.query('CREATE TABLE precious (id int)');
      await theirs.query('INSERT INTO precious VALUES (42)');
      await expect(mover.move({ slug: tenant.slug, store: 'secure', to: target.url })).rejects.toMatchObject({
        code: 'MOVE_TARGET_NOT_EMPTY',
      });
      expect((await theirs.query('SELECT id FROM precious')).rows).toEqual([{ id: 42 }]);
    } finally {
      await theirs.end();
    }
    expect(await placementOf(tenant.slug)).toEqual(before);
    expect((await caller(tenant)('POST', '/v1/customers', { name: 'Here', email: 'here@example.com' })).status).toBe(
      201,
    );
  });

  it('tenant move - through the CLI: `npm run cli -- tenants move` moves it, prints the pause, exit 0; a store the tenant has no database in is a clear error (exit 1)', async () => {
    const { tenant, database } = await tenantWithDatabase('cli');
    const call = caller(tenant);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await call('POST', '/v1/customers', { name: `Cli ${i}`, email: `cli-${i}@example.com` });
      expect(created.status).toBe(201);
      ids.push(created.body.id as string);
    }
    const before = await placementOf(tenant.slug);

    const moved = await cli('tenants', 'move', tenant.slug, '--store', 'secure', '--to', target.url, '--json');
    expect(moved).toMatchObject({ code: 0 });
    leftBehind.push(database);
    const report = JSON.parse(moved.stdout) as MoveReport;
    expect(report).toMatchObject({
      tenant: tenant.slug,
      store: 'secure',
      placementVersion: { before: before.version, after: before.version + 1 },
      sourceDatabase: 'kept, refusing connections',
    });
    expect(report.writesPausedMs).toBeGreaterThanOrEqual(0);
    expect(moved.stdout).not.toContain('password');
    expect(moved.stderr).toContain('tenants move: ');
    expect((await placementOf(tenant.slug)).version).toBe(before.version + 1);
    for (const id of ids) expect((await call('GET', `/v1/customers/${id}`)).status).toBe(200);

    const refused = await cli(
      'tenants',
      'move',
      tenant.slug,
      '--store',
      'reliable',
      '--to',
      'mysql://root@127.0.0.1:3306',
    );
    expect(refused.code).not.toBe(0);
    // This stack runs no reliable store: the tenant has no reliable database to move.
    expect(refused.stderr).toMatch(/^error: PLACEMENT_NOT_FOUND: /m);
  });

  it('tenant move - through the CLI, a schema tenant (the default kind) moves into the shared database of another server, keeping its kind; served from there', async () => {
    const tenant = await stack.createTenant('schema');
    const call = caller(tenant);
    const created = await call('POST', '/v1/customers', { name: 'Shared', email: 'shared@example.com' });
    expect(created.status).toBe(201);
    const placement = await stack.placement(tenant.slug, 'secure');
    expect(placement).toMatchObject({ kind: 'schema', database: 'polystore_secure' });
    const schema = placement.schema!;
    expect(schema).toMatch(/^ps_secure_[0-9a-f]{32}$/);

    const moved = await cli('tenants', 'move', tenant.slug, '--store', 'secure', '--to', target.url, '--json');
    expect(moved).toMatchObject({ code: 0 });
    const report = JSON.parse(moved.stdout) as MoveReport;
    expect(report).toMatchObject({
      kind: { before: 'schema', after: 'schema' },
      location: { before: `polystore_secure.${schema}`, after: `polystore_secure.${schema}` },
      to: `postgres://127.0.0.1:${target.port}`,
      sourceDatabase: 'kept, schema renamed away',
    });
    for (const table of report.tables) expect(table.target).toEqual(table.source);
    expect(await stack.placement(tenant.slug, 'secure')).toMatchObject({
      kind: 'schema',
      database: 'polystore_secure',
      schema,
      server: `postgres://127.0.0.1:${target.port}`,
      version: placement.version + 1,
    });

    // On the target: the row in the tenant's schema, owned by its role, the role granted to the
    // secure store's runtime login (made by the CLI from MASTER_KEY, as provisioning does).
    const onTarget = await connectTo('polystore_secure', target.port);
    try {
      const rows = await onTarget.query<{ id: string }>(`SELECT id::text AS id FROM "${schema}".customers`);
      expect(rows.rows).toEqual([{ id: created.body.id }]);
      const grant = await onTarget.query(
        `SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
         WHERE r.rolname = $1 AND u.rolname = 'ps_secure_runtime'`,
        [schema],
      );
      expect(grant.rowCount).toBe(1);
    } finally {
      await onTarget.end();
    }
    // Served from the new server, reads and writes.
    const read = await call('GET', `/v1/customers/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.email).toBe('shared@example.com');
    expect((await call('POST', '/v1/customers', { name: 'After', email: 'after@example.com' })).status).toBe(201);
  });
});
