import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  Contracts,
  MessageClient,
  type Contract,
  type DeviceView,
  type RequestOf,
  type ResponseOf,
  type UsageRecordView,
} from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import {
  deviceOfflineJob,
  idempotencyPurgeJob,
  OFFLINE_AFTER_MS,
  usageRollupJob,
  type TenantJob,
} from '#polystore/jobs';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { uniqueToken } from '../support/ids.js';
import { stackClient } from '../support/nats.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { testContextSigner } from '../support/context-keys.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const hourStart = (ms: number) => Math.floor(ms / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** A device registered through the gateway (the registration saga), with its token. */
interface Registered {
  readonly id: string;
  readonly token: string;
}

/**
 * The built-in tenant jobs on the real stores: devices registered and telemetry pushed like in
 * production, each job's `run` called for the tenant with a chosen `now` (instead of waiting),
 * the outcome read back through the gateway.
 */
describe('tenant jobs - usage rollup and offline marking on the real stores (e2e)', () => {
  let stack: TestStack;
  let nc: NatsConnection;
  let client: MessageClient;

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      parallelStart: true,
    });
    ({ nc, client } = await stackClient(stack.prefix, 10_000));
  }, 90_000);

  afterAll(async () => {
    await nc?.drain();
    await stack?.close();
  });

  const get = (t: TestTenant, path: string) => stack.request({ path, tenant: t.slug, apiKey: t.apiKey });
  const register = async (t: TestTenant): Promise<Registered> => {
    const res = await stack.request({
      method: 'POST',
      path: '/v1/devices',
      body: { name: `meter-${uniqueToken(6)}`, model: 'EM-340' },
      tenant: t.slug,
      apiKey: t.apiKey,
    });
    expect(res.status).toBe(201);
    return res.body as Registered;
  };
  /**
   * Pushes readings `[seq, device time]` over HTTP (202 once the telemetry stream has them), then
   * waits until the edge store has committed them.
   */
  const push = async (t: TestTenant, device: Registered, readings: ReadonlyArray<readonly [number, number]>) => {
    const res = await httpRequest({
      port: stack.app('edge-store').port,
      method: 'POST',
      path: '/ingest',
      headers: { authorization: `Bearer ${device.token}` },
      body: readings.map(([seq, ts]) => ({ seq, ts: iso(ts), metrics: { kwh: 0.5 } })),
    });
    expect(res.status).toBe(202);
    const seqs = readings.map(([seq]) => seq);
    await eventually(
      async () =>
        (
          await stack.tenantSql<{ n: number }>(
            t.slug,
            'edge',
            'SELECT count(*)::int AS n FROM readings WHERE device_id = $1 AND seq = ANY($2::bigint[])',
            [device.id, seqs],
          )
        )[0]!.n === seqs.length,
      { what: `${seqs.length} readings stored` },
    );
  };
  const run = <R>(job: TenantJob<R>, t: TestTenant, now: number, messages: MessageClient = client) =>
    runAsTenant(
      parseTenantSlug(t.slug),
      () => job.run(parseTenantSlug(t.slug), { signal: new AbortController().signal, now: new Date(now), messages }),
      30_000,
    );

  describe('usage rollup', () => {
    let tenant: TestTenant;
    let d1: Registered;
    let d2: Registered;
    let quiet: Registered;
    // `now` of the runs: half past a past hour H, so every reading below is in the past.
    const H = hourStart(Date.now()) - HOUR;
    const now = H + 30 * MINUTE;

    const usage = async (): Promise<UsageRecordView[]> => {
      const res = await get(tenant, `/v1/usage?from=${iso(H - 6 * HOUR)}&to=${iso(H + 2 * HOUR)}&metric=readings`);
      expect(res.status).toBe(200);
      return (res.body.items as UsageRecordView[]).sort((a, b) =>
        `${a.periodStart}${a.deviceId}`.localeCompare(`${b.periodStart}${b.deviceId}`),
      );
    };
    const record = (device: Registered, period: number, amount: number): UsageRecordView => ({
      deviceId: device.id,
      periodStart: iso(period),
      metric: 'readings',
      amount,
    });
    const stored = () =>
      stack.tenantSql<{ device_id: string; period_start: Date; amount: number; updated_at: Date }>(
        tenant.slug,
        'reliable',
        'SELECT device_id, period_start, amount, updated_at FROM usage_records ORDER BY period_start, device_id',
      );

    beforeAll(async () => {
      tenant = await stack.createTenant('rollup');
      [d1, d2] = [await register(tenant), await register(tenant)];
      quiet = await register(tenant); // without readings: no usage record
      await push(tenant, d1, [
        [1, H - HOUR + 5 * MINUTE],
        [2, H - HOUR + 10 * MINUTE],
        [3, H - HOUR + 15 * MINUTE],
        [4, H + 1 * MINUTE],
        [5, H + 2 * MINUTE],
        [6, H + 45 * MINUTE], // after `now`: counted by a later run
        [7, H - 2 * HOUR - MINUTE], // before the window (start of the hour of now - 2 h)
      ]);
      await push(tenant, d2, [
        [1, H - 2 * HOUR + MINUTE], // first hour of the window
        [2, H + 20 * MINUTE],
      ]);
    }, 60_000);

    it('edge - hourly counts by device time in [from, to) (at most 24 h); last seen only for devices with data', async () => {
      const as = <T>(work: () => Promise<T>) => runAsTenant(parseTenantSlug(tenant.slug), work, 10_000);
      const hourly = (from: number, to: number) =>
        as(() =>
          client.request(Contracts.edge.telemetry.hourly, { deviceIds: [d1.id, d2.id], from: iso(from), to: iso(to) }),
        );
      await expect(hourly(H - HOUR, H + 2 * MINUTE)).resolves.toEqual({
        items: [
          { deviceId: d1.id, hour: iso(H - HOUR), readings: 3 },
          { deviceId: d1.id, hour: iso(H), readings: 1 }, // H + 2 min is excluded
        ],
      });
      await expect(hourly(H - 24 * HOUR - 1, H)).rejects.toMatchObject({ code: 'INVALID_QUERY' });
      await expect(hourly(H, H)).rejects.toMatchObject({ code: 'INVALID_QUERY' });
      await expect(
        as(() => client.request(Contracts.edge.telemetry.lastSeen, { deviceIds: [d1.id, quiet.id] })),
      ).resolves.toEqual({ items: [{ deviceId: d1.id, lastAt: iso(H + 45 * MINUTE) }] });
    });

    it('rollup - usage records equal the readings per device per hour of the window', async () => {
      await expect(run(usageRollupJob, tenant, now)).resolves.toEqual({ devices: 2, records: 4 });
      expect(await usage()).toEqual([
        record(d2, H - 2 * HOUR, 1),
        record(d1, H - HOUR, 3),
        ...[record(d1, H, 2), record(d2, H, 1)].sort((a, b) => a.deviceId.localeCompare(b.deviceId)),
      ]);
    });

    it('rollup - a second run changes nothing: same records, same amounts, no row written', async () => {
      const before = await stored();
      expect(before).toHaveLength(4);
      const ledger = await usage();
      await expect(run(usageRollupJob, tenant, now)).resolves.toEqual({ devices: 2, records: 4 });
      expect(await usage()).toEqual(ledger);
      expect(await stored()).toEqual(before); // updated_at included: the batch was a replay
    });

    it('rollup - more data in an hour sets the new count (not added), the other hours keep theirs', async () => {
      const before = await usage();
      await push(tenant, d1, [[8, H + 10 * MINUTE]]);
      await expect(run(usageRollupJob, tenant, now)).resolves.toEqual({ devices: 2, records: 4 });
      const after = await usage();
      const expected = before.map((r) => (r.deviceId === d1.id && r.periodStart === iso(H) ? { ...r, amount: 3 } : r));
      expect(after).toEqual(expected);
      expect(after.find((r) => r.deviceId === d1.id && r.periodStart === iso(H))?.amount).toBe(3);
    });

    it('rollup - a later run counts the readings that were after `now`, and leaves the hours out of its window', async () => {
      const later = H + 50 * MINUTE;
      await expect(run(usageRollupJob, tenant, later)).resolves.toEqual({ devices: 2, records: 4 });
      expect((await usage()).find((r) => r.deviceId === d1.id && r.periodStart === iso(H))?.amount).toBe(4);
      // Three hours on, H - 2 h is out of the window: its record stays as last counted.
      await expect(run(usageRollupJob, tenant, H + 2 * HOUR + MINUTE)).resolves.toEqual({ devices: 2, records: 2 });
      expect((await usage()).find((r) => r.deviceId === d2.id && r.periodStart === iso(H - 2 * HOUR))?.amount).toBe(1);
    });
  });

  describe('offline marking', () => {
    let tenant: TestTenant;
    let devices: Registered[];

    const idsWithStatus = async (status: string) => {
      const res = await get(tenant, `/v1/devices?status=${status}&limit=200`);
      expect(res.status).toBe(200);
      return (res.body.items as DeviceView[]).map((d) => d.id).sort();
    };
    const ids = (...list: Registered[]) => list.map((d) => d.id).sort();

    beforeAll(async () => {
      tenant = await stack.createTenant('offline');
      devices = [await register(tenant), await register(tenant), await register(tenant)];
      await push(tenant, devices[0]!, [[1, Date.now() - MINUTE]]);
    }, 60_000);

    it('offline - devices that just sent data or were just activated stay active', async () => {
      await expect(run(deviceOfflineJob, tenant, Date.now())).resolves.toEqual({ markedOffline: 0, markedActive: 0 });
      expect(await idsWithStatus('active')).toEqual(ids(...devices));
    });

    it(`offline - devices silent for more than ${OFFLINE_AFTER_MS / MINUTE} minutes become offline (with or without readings)`, async () => {
      const later = Date.now() + OFFLINE_AFTER_MS + 10 * MINUTE;
      await expect(run(deviceOfflineJob, tenant, later)).resolves.toEqual({ markedOffline: 3, markedActive: 0 });
      expect(await idsWithStatus('offline')).toEqual(ids(...devices));
      expect(await idsWithStatus('active')).toEqual([]);
      await expect(run(deviceOfflineJob, tenant, later)).resolves.toEqual({ markedOffline: 0, markedActive: 0 });
    });

    it('offline - an offline device that sends data again becomes active; the silent ones stay offline', async () => {
      const [back, ...silent] = devices as [Registered, ...Registered[]];
      await push(tenant, back, [[2, Date.now()]]);
      await expect(run(deviceOfflineJob, tenant, Date.now())).resolves.toEqual({ markedOffline: 0, markedActive: 1 });
      expect(await idsWithStatus('active')).toEqual([back.id]);
      expect(await idsWithStatus('offline')).toEqual(ids(...silent));
      await expect(run(deviceOfflineJob, tenant, Date.now())).resolves.toEqual({ markedOffline: 0, markedActive: 0 });
    });

    it('offline - a device changed between the read and the update (409) is skipped, not an error', async () => {
      const device = devices[0]!;
      // A real concurrent change: right after the job lists the active devices, an operator
      // disables the device, so the job's update carries a stale version.
      const interleaving = new InterleavingClient(nc, stack.prefix, async (contract, payload) => {
        if (contract !== Contracts.reliable.devices.list || (payload as { status?: string }).status !== 'active')
          return false;
        const current = await client.request(Contracts.reliable.devices.get, { id: device.id });
        await client.request(Contracts.reliable.devices.updateStatus, {
          idempotencyKey: `test-disable-${device.id}`,
          id: device.id,
          status: 'disabled',
          expectedVersion: current.version,
        });
        return true;
      });
      const later = Date.now() + OFFLINE_AFTER_MS + 10 * MINUTE;
      await expect(run(deviceOfflineJob, tenant, later, interleaving)).resolves.toEqual({
        markedOffline: 0,
        markedActive: 0,
      });
      expect(interleaving.interleaved).toBe(1);
      expect((await get(tenant, `/v1/devices/${device.id}`)).body.status).toBe('disabled');
    });
  });

  describe('idempotency purge', () => {
    it('purge - keys past their retention are deleted in the secure and reliable stores, in batches; fresh keys stay; a purged key runs again', async () => {
      const tenant = await stack.createTenant('purge');
      const as = <T>(work: () => Promise<T>) => runAsTenant(parseTenantSlug(tenant.slug), work, 10_000);
      const createCustomer = (key: string) =>
        stack.request({
          method: 'POST',
          path: '/v1/customers',
          body: { name: 'Purge Test', email: 'purge@test.example' },
          headers: { 'idempotency-key': key },
          tenant: tenant.slug,
          apiKey: tenant.apiKey,
        });
      // Secure: 3 keys, 2 of them aged past their retention. Reliable: 1,205 keys (more than a
      // batch), 1,203 of them aged.
      const customers = await Promise.all(['old-1', 'old-2', 'fresh'].map((key) => createCustomer(key)));
      expect(customers.map((c) => c.status)).toEqual([201, 201, 201]);
      const hour = hourStart(Date.now()) - 3 * HOUR;
      for (let batch = 0; batch < 5; batch++) {
        await as(() =>
          client.request(Contracts.reliable.usage.upsert, {
            idempotencyKey: `purge-batch-${batch}`,
            records: [{ deviceId: crypto.randomUUID(), periodStart: iso(hour), metric: 'readings', amount: batch }],
          }),
        );
      }
      await stack.tenantSql(
        tenant.slug,
        'secure',
        `UPDATE idempotency_keys SET expires_at = now() - interval '1 minute' WHERE idem_key IN ('old-1', 'old-2')`,
      );
      await stack.tenantSql(
        tenant.slug,
        'reliable',
        `UPDATE idempotency_keys SET expires_at = NOW() - INTERVAL 1 MINUTE WHERE idem_key <> 'purge-batch-4'`,
      );
      await stack.tenantSql(
        tenant.slug,
        'reliable',
        `INSERT INTO idempotency_keys (idem_key, request_hash, result, created_at, expires_at)
         SELECT CONCAT('filler-', seq), 'x', 'null', NOW(), NOW() - INTERVAL 1 MINUTE FROM seq_1_to_1200`,
      );
      const keys = async (store: 'secure' | 'reliable') =>
        (await stack.tenantSql<{ key: string }>(tenant.slug, store, 'SELECT idem_key AS "key" FROM idempotency_keys'))
          .map((r) => r.key)
          .sort();
      expect((await keys('reliable')).length).toBe(1_205);

      const purged = await run(idempotencyPurgeJob, tenant, Date.now());
      expect(purged).toEqual({ secure: 2, reliable: 1_204 });
      expect(await keys('secure')).toEqual(['fresh']);
      expect(await keys('reliable')).toEqual(['purge-batch-4']);
      await expect(run(idempotencyPurgeJob, tenant, Date.now())).resolves.toEqual({ secure: 0, reliable: 0 });

      // A fresh key still answers the first outcome; a purged one runs again (a new customer).
      const fresh = await createCustomer('fresh');
      expect(fresh.body.id).toBe(customers[2]!.body.id);
      const again = await createCustomer('old-1');
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(customers[0]!.body.id);
    });
  });
});

/**
 * A client that runs `between` after each request is answered and before the caller sees the
 * answer, until `between` says it acted (true): a concurrent writer at a chosen point, through
 * the real stores.
 */
class InterleavingClient extends MessageClient {
  interleaved = 0;

  constructor(
    nc: NatsConnection,
    prefix: string,
    private readonly between: (contract: Contract, payload: unknown) => Promise<boolean>,
  ) {
    super(nc, { subjectPrefix: prefix, defaultTimeoutMs: 10_000, signer: testContextSigner });
  }

  override async request<C extends Contract>(
    contract: C,
    payload: RequestOf<C>,
    options?: { timeoutMs?: number },
  ): Promise<ResponseOf<C>> {
    const answer = await super.request(contract, payload, options);
    if (this.interleaved === 0 && (await this.between(contract, payload))) this.interleaved++;
    return answer;
  }
}
