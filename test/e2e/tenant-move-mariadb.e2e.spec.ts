import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import type { CatalogAdminService, CatalogService, StoreName } from '#polystore/catalog';
import { DatabaseAdmin } from '#polystore/data-router';
import { Contracts, type MessageClient } from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { TenantMover } from '../../apps/cli/src/move/tenant-mover.js';
import type { MoveReport } from '../../apps/cli/src/move/move-report.js';
import { RELIABLE_SCHEMA } from '../../apps/reliable-store/src/reliable.schema.js';
import { eventually } from '../support/eventually.js';
import { mariaQuery } from '../support/mariadb.js';
import { PrivateMariaDb } from '../support/mariadb-server.js';
import { stackClient } from '../support/nats.js';
import { openMover, type TestMover } from '../support/mover.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { countInto, startWriter } from '../support/writer.js';

const D = Contracts.reliable.devices;

/** Retryable answers while the tenant's writes are paused or cut at the switch. */
const RETRYABLE = new Set(['DATABASE_UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'DEADLINE_EXCEEDED']);

const tablesOf = async (database: string, serverUrl: string = TestServices.mariadbUrl) =>
  (
    await mariaQuery<{ t: string }>(
      'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name',
      [database],
      undefined,
      serverUrl,
    )
  ).map((r) => r.t);

describe('tenant move - a reliable-store tenant moved to another MariaDB server while the stack runs (e2e)', () => {
  let target: PrivateMariaDb;
  let stack: TestStack;
  let moving: TestMover;
  let nc: NatsConnection;
  let client: MessageClient;
  let catalog: CatalogService;
  let mover: TenantMover;
  let catalogAdmin: CatalogAdminService;
  /** Databases left on the shared server (the `_m<stamp>` backups): dropped at the end. */
  const leftBehind: string[] = [];

  beforeAll(async () => {
    target = await PrivateMariaDb.create();
    stack = await TestStack.start({ apps: ['reliable-store', 'gateway'] });
    ({ nc, client } = await stackClient(stack.prefix, 3_000));
    moving = await openMover(stack, 'tenant-move-mariadb-test', RELIABLE_SCHEMA, nc);
    ({ mover, catalog, catalogAdmin } = moving);
  });

  afterAll(async () => {
    await stack?.close();
    for (const database of leftBehind) await DatabaseAdmin.dropDatabase(TestServices.mariadbUrl, database);
    await moving?.close();
    await nc?.drain();
    await target?.destroy();
  });

  const placementOf = (slug: string, store: StoreName = 'reliable') =>
    catalog.getPlacementFresh(parseTenantSlug(slug), store);

  /** The tenant's reliable database (MariaDB placements are databases of their own by default), by its catalog name. */
  const reliableDatabase = async (t: TestTenant): Promise<string> => {
    const placement = await stack.placement(t.slug, 'reliable');
    expect(placement).toMatchObject({ kind: 'database', server: `mysql://${new URL(TestServices.mariadbUrl).host}` });
    return placement.database;
  };

  /** Creates one device with an idempotency key, retrying (same key) on retryable answers; its id. */
  const createDevice = async (t: TestTenant, key: string, count: (outcome: string) => void): Promise<string> => {
    for (;;) {
      try {
        const device = await runAsTenant(
          parseTenantSlug(t.slug),
          () => client.request(D.create, { idempotencyKey: key, name: key, model: 'M-1' }),
          10_000,
        );
        count('ok');
        return device.id;
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'unknown';
        count(code);
        if (!RETRYABLE.has(code)) throw error;
      }
    }
  };

  /** A client creating devices without pause until stopped (see startWriter); every create is retried until acknowledged. */
  const deviceWriter = (t: TestTenant, name: string) =>
    startWriter<string>((n, count) => createDevice(t, `${name}-${n}`, count));

  it('tenant move (MariaDB) - served from the new server afterwards; no acknowledged write is missing; the old database has no tables left', async () => {
    const tenant = await stack.createTenant('mmove');
    const database = await reliableDatabase(tenant);
    const statuses = new Map<string, number>();
    const before: string[] = [];
    for (let i = 0; i < 20; i++) before.push(await createDevice(tenant, `before-${i}`, countInto(statuses)));
    const placementBefore = await placementOf(tenant.slug);
    expect(await tablesOf(database)).toContain('devices'); // the name is right: the tables are there before the move
    const pids = { store: stack.app('reliable-store').child.pid, gateway: stack.app('gateway').child.pid };

    const writers = [deviceWriter(tenant, 'w1'), deviceWriter(tenant, 'w2')];
    const acknowledged = () => writers.reduce((sum, w) => sum + w.ids.length, 0);
    await eventually(() => acknowledged() >= 10, { what: 'writes under way before the move' });

    const phases: string[] = [];
    let report: MoveReport;
    try {
      // A database on the shared MariaDB becomes the tenant's own server (kind dedicated).
      report = await mover.move({
        slug: tenant.slug,
        store: 'reliable',
        to: target.url,
        kind: 'dedicated',
        onProgress: (p) => phases.push(p),
      });
      if (report.sourceTablesMovedTo) leftBehind.push(report.sourceTablesMovedTo);
      const atSwitch = acknowledged();
      // Writes keep being acknowledged after the switch: by the new server.
      await eventually(() => acknowledged() >= atSwitch + 20, { timeoutMs: 20_000, what: 'writes after the move' });
    } finally {
      await Promise.all(writers.map((w) => w.stop()));
    }

    expect(report).toMatchObject({
      tenant: tenant.slug,
      store: 'reliable',
      database,
      from: placementBefore.serverId,
      to: `mysql://127.0.0.1:${target.port}`,
      kind: { before: 'database', after: 'dedicated' },
      location: { before: database, after: database },
      placementVersion: { before: placementBefore.version, after: placementBefore.version + 1 },
      sourceDatabase: 'kept, tables renamed away',
      sourceTablesMovedTo: expect.stringMatching(new RegExp(`^${database}_m\\d{14}$`)),
    });
    expect(JSON.stringify(report)).not.toMatch(/root@/);
    for (const table of report.tables) expect(table.target).toEqual(table.source);
    expect(report.tables.map((t) => t.table).sort()).toEqual(
      ['devices', 'idempotency_keys', 'outbox', 'outbox_append_lock', 'usage_records'].sort(),
    );
    const devices = report.tables.find((t) => t.table === 'devices')!;
    expect(devices.source.rows).toBeGreaterThanOrEqual(before.length);
    expect(report.writesPausedMs).toBeGreaterThanOrEqual(0);
    expect(report.writesPausedMs).toBeLessThan(3_000);
    expect(phases).toEqual(
      expect.arrayContaining(['pause writes', 'copy', 'verify', 'rename old tables', 'switch placement', 'done']),
    );
    process.stdout.write(
      `tenant move (MariaDB): writes paused ${report.writesPausedMs} ms, total ${report.durationMs} ms, ` +
        `${devices.target.rows} devices at the switch, fence attempts ${report.fenceAttempts}, ` +
        `sessions killed ${report.sessionsTerminated}, auto-increment counters ${report.sequences}, writer answers ${JSON.stringify(
          writers.map((w) => Object.fromEntries(w.statuses)),
        )}\n`,
    );

    // The catalog: the placement points at the new server, one version later, a server of its own.
    expect(await placementOf(tenant.slug)).toMatchObject({
      serverId: `mysql://127.0.0.1:${target.port}`,
      kind: 'dedicated',
      database,
      version: placementBefore.version + 1,
    });

    // Every acknowledged device is physically in the new database and readable through the gateway.
    const all = [...before, ...writers.flatMap((w) => w.ids)];
    const onNewServer = new Set(
      (await mariaQuery<{ id: string }>('SELECT id FROM devices', [], database, target.url)).map((r) => r.id),
    );
    expect(all.filter((id) => !onNewServer.has(id))).toEqual([]);
    for (const id of all) {
      const got = await stack.request({
        method: 'GET',
        path: `/v1/devices/${id}`,
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
      });
      expect(got.status).toBe(200);
    }

    // The old database has no tables left: they are in the _m<stamp> database, frozen at the copy,
    // and the emptied database itself is gone.
    expect(await tablesOf(database)).toEqual([]);
    expect(await DatabaseAdmin.databaseExists(TestServices.mariadbUrl, database)).toBe(false);
    expect(await tablesOf(report.sourceTablesMovedTo!)).toEqual([
      'devices',
      'idempotency_keys',
      'outbox',
      'outbox_append_lock',
      'reliable_migrations',
      'usage_records',
    ]);
    const frozen = await mariaQuery<{ n: number }>('SELECT count(*) AS n FROM devices', [], report.sourceTablesMovedTo);
    expect(Number(frozen[0]!.n)).toBe(devices.source.rows);
    // A stale writer to the old database fails loudly.
    await expect(mariaQuery('INSERT INTO devices (id) VALUES (?)', ['x'], database)).rejects.toMatchObject({
      code: 'ER_BAD_DB_ERROR',
    });

    // The stack kept running: the same processes, never restarted.
    expect(stack.app('reliable-store').isRunning && stack.app('gateway').isRunning).toBe(true);
    expect({ store: stack.app('reliable-store').child.pid, gateway: stack.app('gateway').child.pid }).toEqual(pids);
  });

  it('tenant move (MariaDB) - a switch that fails after the rename rolls back: tables renamed back, target and backup dropped, tenant served', async () => {
    const tenant = await stack.createTenant('mfail');
    const database = await reliableDatabase(tenant);
    const statuses = new Map<string, number>();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createDevice(tenant, `stay-${i}`, countInto(statuses)));
    const before = await placementOf(tenant.slug);
    const tablesBefore = await tablesOf(database);
    expect(tablesBefore).toContain('devices');
    // The catalog write fails (version unchanged): the move must undo its rename.
    const failingAdmin = Object.create(catalogAdmin) as CatalogAdminService;
    failingAdmin.movePlacement = () => Promise.reject(new Error('catalog write failed'));
    const failing = new TenantMover({ catalogAdmin: failingAdmin, catalog, schemaFor: () => RELIABLE_SCHEMA });
    const phases: string[] = [];
    await expect(
      failing.move({ slug: tenant.slug, store: 'reliable', to: target.url, onProgress: (p) => phases.push(p) }),
    ).rejects.toThrow('catalog write failed');
    expect(phases).toEqual(expect.arrayContaining(['rename old tables', 'switch placement']));

    expect(await placementOf(tenant.slug)).toEqual(before);
    expect(await tablesOf(database)).toEqual(tablesBefore);
    const backups = await mariaQuery<{ n: string }>(
      'SELECT schema_name AS n FROM information_schema.schemata WHERE schema_name LIKE ?',
      [`${database}\\_m%`],
    );
    expect(backups).toEqual([]);
    expect(await DatabaseAdmin.databaseExists(target.url, database)).toBe(false);
    // Served from its old server, reads and writes.
    for (const id of ids) {
      const got = await stack.request({
        method: 'GET',
        path: `/v1/devices/${id}`,
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
      });
      expect(got.status).toBe(200);
    }
    await createDevice(tenant, 'after-failed-move', countInto(statuses));
    expect([...statuses.keys()].every((k) => k === 'ok' || RETRYABLE.has(k))).toBe(true);
  });
});
