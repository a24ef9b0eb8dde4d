import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Contracts, Streams, deviceEventSchema, type DeviceView, type MessageClient } from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { eventually } from '../support/eventually.js';
import { uniqueToken } from '../support/ids.js';
import { isPostgres } from '../support/db.js';
import { stackClient } from '../support/nats.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { tenantSql, tenantTables, type TenantPlacement } from '../support/tenant-data.js';

const D = Contracts.reliable.devices;

// The default placement kind: a database of its own on MariaDB, a schema of its own in the
// store's shared database on PostgreSQL.
describe.each([
  ['MariaDB', TestServices.mariadbUrl, 'database'],
  ['PostgreSQL', TestServices.postgresUrl, 'schema'],
])('reliable store - device registry and usage ledger on real %s (e2e)', (dialect, serverUrl, kind) => {
  let stack: TestStack;
  let nc: NatsConnection;
  let client: MessageClient;
  let tenant: TestTenant;
  // A system database of its own: another suite's reliable store sweeps the outboxes of every
  // tenant its catalog lists, and would publish this suite's events under its own subjects.
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'gateway'],
      parallelStart: true,
      env: { RELIABLE_SERVER_URL: serverUrl, SYSTEM_DB_URL: systemUrl.toString() },
    });
    ({ nc, client } = await stackClient(stack.prefix, 3_000));
    tenant = await stack.createTenant();
  });

  afterAll(async () => {
    await nc?.drain();
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  });

  const as = <T>(t: TestTenant, work: () => Promise<T>) => runAsTenant(parseTenantSlug(t.slug), work, 10_000);
  const create = (t: TestTenant, key: string, name = 'Meter', extra: Record<string, unknown> = {}) =>
    as(t, () => client.request(D.create, { idempotencyKey: key, name, model: 'M-1', ...extra }));
  /** The tenant's reliable placement, which must be on this suite's server. */
  const reliableData = async (t: TestTenant): Promise<TenantPlacement> => {
    const placement = await stack.placement(t.slug, 'reliable');
    expect(placement.server).toBe(`${new URL(serverUrl).protocol}//${new URL(serverUrl).host}`);
    return placement;
  };
  /** One query in the tenant's reliable data (`?` placeholders, `$n` on PostgreSQL), on this suite's server. */
  const tenantQuery = async <R extends Record<string, unknown>>(t: TestTenant, sql: string, params: unknown[] = []) => {
    let n = 0;
    const text = isPostgres(serverUrl) ? sql.replace(/\?/g, () => `$${++n}`) : sql;
    return tenantSql<R>(await reliableData(t), text, params);
  };
  // count(*) is a bigint: a string from pg, a number from mysql2.
  const rowsNamed = async (t: TestTenant, name: string) =>
    Number((await tenantQuery<{ n: unknown }>(t, 'SELECT count(*) AS n FROM devices WHERE name = ?', [name]))[0]!.n);

  it(`reliable - creating a tenant creates and migrates its ${dialect} ${kind}`, async () => {
    const placement = await reliableData(tenant);
    expect(placement.kind).toBe(kind);
    expect(await tenantTables(placement)).toEqual([
      'devices',
      'idempotency_keys',
      'outbox',
      'outbox_append_lock',
      'reliable_migrations',
      'usage_records',
    ]);
  });

  it('reliable - 20 concurrent duplicates of one create with the same key: one row, 20 identical answers', async () => {
    const name = `dup-${uniqueToken(6)}`;
    const answers = await Promise.all(Array.from({ length: 20 }, () => create(tenant, `key-${name}`, name)));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(await rowsNamed(tenant, name)).toBe(1);
  });

  it('reliable - the same key with another payload is a 409 IDEMPOTENCY_MISMATCH', async () => {
    await create(tenant, 'key-mismatch', 'First');
    await expect(create(tenant, 'key-mismatch', 'Second')).rejects.toMatchObject({
      code: 'IDEMPOTENCY_MISMATCH',
      kind: 'CONFLICT',
    });
  });

  it('reliable - killed (SIGKILL) between its commit and its reply: the retry returns the committed result, not a second row', async () => {
    const name = `crash-${uniqueToken(6)}`;
    await stack.app('reliable-store').stop('SIGTERM');
    const doomed = await stack.startApp('reliable-store', { CRASH_POINTS: 'reliable.devices.create.after-commit' });
    const lost = await create(tenant, `key-${name}`, name).catch((error: unknown) => error);
    expect(lost).toMatchObject({ code: expect.stringMatching(/DEADLINE_EXCEEDED|SERVICE_UNAVAILABLE/) });
    expect((await doomed.waitForExit()).signal).toBe('SIGKILL');
    expect(doomed.output).toContain('crash point hit');
    expect(await rowsNamed(tenant, name)).toBe(1); // committed before the crash

    await stack.startApp('reliable-store');
    const retried = await create(tenant, `key-${name}`, name);
    const stored = await tenantQuery<{ id: string }>(tenant, 'SELECT id FROM devices WHERE name = ?', [name]);
    expect(retried.id).toBe(stored[0]!.id);
    expect(await rowsNamed(tenant, name)).toBe(1);
  });

  it('reliable - optimistic locking: of two updates from the same version, one wins and one gets 409 VERSION_CONFLICT', async () => {
    const device = await create(tenant, `key-${uniqueToken(6)}`, 'Locked');
    const update = (key: string, status: 'offline' | 'disabled') =>
      as(tenant, () =>
        client.request(D.updateStatus, { idempotencyKey: key, id: device.id, status, expectedVersion: device.version }),
      );
    const outcomes = await Promise.allSettled([update('u-a', 'offline'), update('u-b', 'disabled')]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost[0]?.reason).toMatchObject({ code: 'VERSION_CONFLICT', kind: 'CONFLICT' });
    const now = await as(tenant, () => client.request(D.get, { id: device.id }));
    expect(now.version).toBe(2);
    await expect(
      as(tenant, () => client.request(D.updateStatus, { idempotencyKey: 'u-c', id: device.id, status: 'pending' })),
    ).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  it('reliable - every outbox row reaches a JetStream consumer, in order, across a relay crash, and none is applied twice', async () => {
    const t = await stack.createTenant('outbox');
    const jsm = await jetstreamManager(nc);
    const stream = Streams.reliableEvents.name(stack.prefix);
    const durable = `test_${uniqueToken(6)}`;
    await jsm.consumers.add(stream, {
      durable_name: durable,
      filter_subject: Streams.reliableEvents.subject(stack.prefix, t.slug, '>'),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });

    const keys = Array.from({ length: 120 }, (_, i) => `ob-${i}`);
    const createAll = async (batch: string[]) => {
      for (let i = 0; i < batch.length; i += 10) {
        await Promise.all(batch.slice(i, i + 10).map((key) => create(t, key, key).catch((error: unknown) => error)));
      }
    };
    await createAll(keys.slice(0, 60));
    // Crash the store while it is still writing and relaying, then let a new one take over.
    const writing = createAll(keys.slice(60, 90));
    await stack.app('reliable-store').stop('SIGKILL');
    await writing;
    await stack.startApp('reliable-store');
    await createAll(keys); // retries (same keys) finish what the crash interrupted; replays change nothing
    const outbox = await tenantQuery<{ event_id: string }>(t, 'SELECT event_id FROM outbox ORDER BY seq');
    expect(outbox).toHaveLength(120);

    const consumer = await jetstream(nc).consumers.get(stream, durable);
    const applied = new Set<string>();
    const order: string[] = [];
    let duplicates = 0;
    await eventually(
      async () => {
        const batch = await consumer.fetch({ max_messages: 200, expires: 1_000 });
        for await (const message of batch) {
          const event = deviceEventSchema.parse(message.json());
          if (applied.has(event.eventId)) duplicates++;
          else {
            applied.add(event.eventId);
            order.push(event.eventId);
          }
          message.ack();
        }
        return applied.size >= outbox.length;
      },
      { timeoutMs: 30_000, what: `every outbox event consumed (${applied.size}/${outbox.length})` },
    );
    expect([...applied].sort()).toEqual(outbox.map((r) => r.event_id).sort());
    expect(order).toEqual(outbox.map((r) => r.event_id)); // per-tenant order = outbox order
    expect(duplicates).toBeGreaterThanOrEqual(0); // redeliveries may happen; the Set applied each event once
    const unpublished = await tenantQuery<{ n: unknown }>(
      t,
      'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
    );
    expect(Number(unpublished[0]!.n)).toBe(0);
  }, 90_000);

  it('reliable - killed (SIGKILL) after the relay published a batch and before it marked it: the new process publishes it again, the stream keeps it once (message id), the outbox ends marked', async () => {
    const t = await stack.createTenant('relaycrash');
    await stack.app('reliable-store').stop('SIGTERM');
    const doomed = await stack.startApp('reliable-store', { CRASH_POINTS: 'reliable.outbox.after-publish' });
    await create(t, 'relay-crash-1', 'Relay Crash').catch(() => undefined); // the reply may be lost with the process
    expect((await doomed.waitForExit()).signal).toBe('SIGKILL');
    expect(doomed.output).toContain('reliable.outbox.after-publish');
    const pending = await tenantQuery<{ event_id: string }>(
      t,
      'SELECT event_id FROM outbox WHERE published_at IS NULL',
    );
    expect(pending).toHaveLength(1); // published, not marked

    await stack.startApp('reliable-store'); // its boot sweep drains every tenant
    await eventually(
      async () =>
        Number(
          (await tenantQuery<{ n: unknown }>(t, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL'))[0]!.n,
        ) === 0,
      { what: 'the outbox row marked published by the new process' },
    );
    const jsm = await jetstreamManager(nc);
    const stream = Streams.reliableEvents.name(stack.prefix);
    const durable = `crash_${uniqueToken(6)}`;
    await jsm.consumers.add(stream, {
      durable_name: durable,
      filter_subject: Streams.reliableEvents.subject(stack.prefix, t.slug, '>'),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    const info = await jsm.consumers.info(stream, durable);
    expect(info.num_pending).toBe(1); // published twice, stored once
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    const message = await consumer.next({ expires: 2_000 });
    expect(deviceEventSchema.parse(message!.json()).eventId).toBe(pending[0]!.event_id);
    expect(await rowsNamed(t, 'Relay Crash')).toBe(1);
  }, 90_000);

  describe('gateway routes', () => {
    let devices: DeviceView[];

    beforeAll(async () => {
      const t = tenant;
      devices = [];
      for (let i = 0; i < 5; i++)
        devices.push(await create(t, `route-${i}`, `Route ${i}`, { status: i < 2 ? 'pending' : 'active' }));
      await as(t, () =>
        client.request(Contracts.reliable.usage.upsert, {
          idempotencyKey: 'usage-1',
          records: [
            { deviceId: devices[2]!.id, periodStart: '2026-11-01T10:00:00.000Z', metric: 'kwh', amount: 3.5 },
            { deviceId: devices[2]!.id, periodStart: '2026-11-01T11:00:00.000Z', metric: 'kwh', amount: 4 },
            { deviceId: devices[3]!.id, periodStart: '2026-10-01T11:00:00.000Z', metric: 'kwh', amount: 9 },
          ],
        }),
      );
    });

    const get = (path: string, t: TestTenant = tenant) => stack.request({ path, tenant: t.slug, apiKey: t.apiKey });

    it('GET /v1/devices/:id returns the device; another tenant gets 404', async () => {
      const res = await get(`/v1/devices/${devices[0]!.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(devices[0]);
      const other = await stack.createTenant('other');
      expect((await get(`/v1/devices/${devices[0]!.id}`, other)).status).toBe(404);
    });

    it('GET /v1/devices pages newest first and filters by status', async () => {
      const pending = await get('/v1/devices?status=pending&limit=50');
      expect(pending.body.items.map((d: DeviceView) => d.name).sort()).toEqual(['Route 0', 'Route 1']);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: DeviceView[]; nextCursor: string | null } } = await get(
          `/v1/devices?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        seen.push(...page.body.items.map((d) => d.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      for (const d of devices) expect(seen).toContain(d.id);
    });

    it('GET /v1/usage returns the ledger for a period', async () => {
      const res = await get('/v1/usage?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        items: [
          { deviceId: devices[2]!.id, periodStart: '2026-11-01T10:00:00.000Z', metric: 'kwh', amount: 3.5 },
          { deviceId: devices[2]!.id, periodStart: '2026-11-01T11:00:00.000Z', metric: 'kwh', amount: 4 },
        ],
        truncated: false,
      });
    });

    it.each([
      ['/v1/devices?status=broken', 'status'],
      ['/v1/devices?limit=0', 'limit'],
      ['/v1/devices?cursor=%00%01', 'cursor'],
      ['/v1/devices/not-a-uuid', 'id'],
      ['/v1/usage?from=yesterday&to=2026-11-02T00:00:00Z', 'from'],
      ['/v1/usage?from=2026-11-01T00:00:00Z', 'to'],
      ['/v1/usage?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'to must be after from'],
    ])('GET %s -> 400 naming %s', async (path, field) => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
    });
  });
});
