import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { MoveReport } from '../../apps/cli/src/move/move-report.js';
import type { TenantMover } from '../../apps/cli/src/move/tenant-mover.js';
import { SECURE_SCHEMA } from '../../apps/secure-store/src/secure.schema.js';
import { eventually } from '../support/eventually.js';
import { pgQuery } from '../support/pg.js';
import { PrivatePostgres } from '../support/postgres-server.js';
import { openMover, type TestMover } from '../support/mover.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { customerWriter } from '../support/writer.js';

const SHARED = `postgres://root@127.0.0.1:${new URL(TestServices.postgresUrl).port || 5432}`;

/** One query on a database of the server at `port`. */
async function queryOn<R extends pg.QueryResultRow>(port: number, database: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'root', database });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Moves between placement kinds while the stack runs: a schema in the shared database moved to a
 * server of the tenant's own and back, and a database of its own moved into a schema on the same
 * server (the upgrade path from one database per tenant). Same fence, copy, checksums, catalog
 * switch and pause report as moves between servers; no acknowledged write is lost; the tenants
 * sharing the database are not disturbed.
 */
describe('tenant move between kinds - schema <-> dedicated, database -> schema (e2e, real PostgreSQL servers)', () => {
  let dedicated: PrivatePostgres;
  let stack: TestStack;
  let moving: TestMover;
  let mover: TenantMover;
  let neighbour: TestTenant;
  let neighbourCustomer: string;

  beforeAll(async () => {
    dedicated = await PrivatePostgres.create();
    stack = await TestStack.start({ apps: ['secure-store', 'gateway'] });
    moving = await openMover(stack, 'tenant-move-kinds-test', SECURE_SCHEMA);
    ({ mover } = moving);
    // A tenant sharing the database with the moved ones: it must be served throughout.
    neighbour = await stack.createTenant('neighbour');
    const created = await caller(neighbour)('POST', '/v1/customers', { name: 'N', email: 'n@kinds.example' });
    expect(created.status).toBe(201);
    neighbourCustomer = created.body.id;
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await moving?.close();
    dedicated?.destroy();
  });

  const caller = (t: TestTenant) => (method: string, path: string, body?: unknown) =>
    stack.request({ method, path, body, tenant: t.slug, apiKey: t.apiKey });

  async function createCustomers(t: TestTenant, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const created = await caller(t)('POST', '/v1/customers', {
        name: `Before ${i}`,
        email: `before-${i}@kinds.example`,
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    return ids;
  }

  /** Moves under two writers; returns the report and every acknowledged id (before and during). */
  async function moveUnderLoad(
    t: TestTenant,
    before: string[],
    to: string,
    kind: string,
  ): Promise<{ report: MoveReport; all: string[] }> {
    const writers = [customerWriter(caller(t), 'kinds.example'), customerWriter(caller(t), 'kinds.example')];
    const acknowledged = () => writers.reduce((sum, w) => sum + w.ids.length, 0);
    let report: MoveReport;
    try {
      await eventually(() => acknowledged() >= 10, { what: 'writes under way before the move' });
      report = await mover.move({ slug: t.slug, store: 'secure', to, kind });
      const atSwitch = acknowledged();
      await eventually(() => acknowledged() >= atSwitch + 10, { timeoutMs: 20_000, what: 'writes after the move' });
    } finally {
      await Promise.all(writers.map((w) => w.stop()));
    }
    process.stdout.write(
      `move ${kind}: writes paused ${report.writesPausedMs} ms, total ${report.durationMs} ms, statuses ${JSON.stringify(
        writers.map((w) => Object.fromEntries(w.statuses)),
      )}\n`,
    );
    // Clients saw 201, or a retryable 503 while writes were paused: never a 500.
    for (const writer of writers) expect([...writer.statuses.keys()].every((s) => s === 201 || s === 503)).toBe(true);
    return { report, all: [...before, ...writers.flatMap((w) => w.ids)] };
  }

  async function expectAllServed(t: TestTenant, ids: readonly string[]): Promise<void> {
    for (const id of ids) expect((await caller(t)('GET', `/v1/customers/${id}`)).status).toBe(200);
    const verdict = await caller(t)('GET', '/v1/audit/verify');
    expect(verdict.body).toMatchObject({ valid: true });
    expect((await caller(neighbour)('GET', `/v1/customers/${neighbourCustomer}`)).status).toBe(200);
  }

  it('move - a schema moves to a server of its own (dedicated) and back into the shared database, losing nothing', async () => {
    const tenant = await stack.createTenant('toown');
    const start = await stack.placement(tenant.slug, 'secure');
    expect(start.kind).toBe('schema');
    const before = await createCustomers(tenant, 10);

    const out = await moveUnderLoad(tenant, before, dedicated.url, 'dedicated');
    expect(out.report).toMatchObject({
      kind: { before: 'schema', after: 'dedicated' },
      location: { before: `polystore_secure.${start.schema}`, after: start.schema },
      to: `postgres://127.0.0.1:${dedicated.port}`,
      sourceDatabase: 'kept, schema renamed away',
    });
    for (const table of out.report.tables) expect(table.target).toEqual(table.source);
    expect(out.report.writesPausedMs).toBeLessThan(3_000);
    const own = await stack.placement(tenant.slug, 'secure');
    expect(own).toMatchObject({ kind: 'dedicated', database: start.schema, version: start.version + 1 });
    expect(own.schema).toBeUndefined();
    // Every acknowledged write is on the tenant's own server.
    const onOwn = await queryOn<{ id: string }>(dedicated.port, start.schema!, 'SELECT id::text AS id FROM customers');
    const ids = new Set(onOwn.map((r) => r.id));
    expect(out.all.filter((id) => !ids.has(id))).toEqual([]);
    await expectAllServed(tenant, out.all);
    // The old copy is renamed away in the shared database: nothing can reach it by the old name.
    const schemas = await pgQuery<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
      [`${start.schema}%`],
      'polystore_secure',
    );
    expect(schemas.map((s) => s.nspname)).toEqual([expect.stringMatching(new RegExp(`^${start.schema}_m\\d{14}$`))]);

    // And back: dedicated -> schema in the shared database, the kept copy dropped this time.
    const back = await moveUnderLoad(tenant, out.all, SHARED, 'schema');
    expect(back.report).toMatchObject({
      kind: { before: 'dedicated', after: 'schema' },
      location: { before: start.schema, after: `polystore_secure.${start.schema}` },
    });
    const home = await stack.placement(tenant.slug, 'secure');
    expect(home).toMatchObject({ kind: 'schema', database: 'polystore_secure', schema: start.schema });
    const rows = await stack.tenantSql<{ id: string }>(tenant.slug, 'secure', 'SELECT id::text AS id FROM customers');
    const inSchema = new Set(rows.map((r) => r.id));
    expect(back.all.filter((id) => !inSchema.has(id))).toEqual([]);
    // Owned by the tenant's role again, like a schema made by provisioning.
    const owner = await pgQuery<{ owner: string }>(
      'SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = $1',
      [start.schema],
      'polystore_secure',
    );
    expect(owner).toEqual([{ owner: start.schema }]);
    await expectAllServed(tenant, back.all);
  }, 120_000);

  it('move - the upgrade path: a database of its own moves into a schema on the same server', async () => {
    const tenant = await stack.createTenant('upgrade', [{ store: 'secure', kind: 'database' }]);
    const start = await stack.placement(tenant.slug, 'secure');
    expect(start.kind).toBe('database');
    const before = await createCustomers(tenant, 5);
    const out = await moveUnderLoad(tenant, before, SHARED, 'schema');
    expect(out.report).toMatchObject({
      kind: { before: 'database', after: 'schema' },
      from: out.report.to,
      sourceDatabase: 'kept, refusing connections',
    });
    const after = await stack.placement(tenant.slug, 'secure');
    expect(after).toMatchObject({ kind: 'schema', database: 'polystore_secure', schema: start.database });
    await expectAllServed(tenant, out.all);
    // The old database refuses connections: no stale process writes there.
    const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'root', database: start.database });
    await expect(client.connect()).rejects.toMatchObject({ code: '55000' });
    await pgQuery(`DROP DATABASE IF EXISTS "${start.database}" WITH (FORCE)`);
  }, 120_000);

  it('move - refused before anything is touched: the same place, an unknown kind', async () => {
    const tenant = await stack.createTenant('refused');
    await expect(mover.move({ slug: tenant.slug, store: 'secure', to: SHARED })).rejects.toMatchObject({
      code: 'MOVE_SAME_SERVER',
    });
    await expect(mover.move({ slug: tenant.slug, store: 'secure', to: SHARED, kind: 'bogus' })).rejects.toMatchObject({
      code: 'MOVE_NOT_SUPPORTED',
    });
    expect((await stack.placement(tenant.slug, 'secure')).version).toBe(1);
  });
});
