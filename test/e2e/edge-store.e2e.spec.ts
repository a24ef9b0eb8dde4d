import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Contracts, type DeviceCredentials, type MessageClient } from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import mqtt, { type MqttClient } from 'mqtt';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { PrivateMosquitto } from '../support/mosquitto-server.js';
import { stackClient } from '../support/nats.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { dumpTenantData } from '../support/tenant-data.js';

const HOUR_AGO = () => new Date(Date.now() - 3_600_000).toISOString();
const SOON = () => new Date(Date.now() + 60_000).toISOString();

describe('edge store - devices push telemetry over MQTT and HTTP (e2e, real Mosquitto and PostgreSQL)', () => {
  let broker: PrivateMosquitto;
  let stack: TestStack;
  let nc: NatsConnection;
  let client: MessageClient;
  let tenant: TestTenant;
  const devices: MqttClient[] = [];

  beforeAll(async () => {
    broker = await PrivateMosquitto.create();
    stack = await TestStack.start({
      apps: ['edge-store', 'gateway'],
      env: { MQTT_URL: broker.url, MQTT_ADMIN_PASSWORD: broker.adminPassword },
    });
    ({ nc, client } = await stackClient(stack.prefix, 5_000));
    tenant = await stack.createTenant();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.endAsync(true).catch(() => undefined)));
    await nc?.drain();
    await stack?.close();
    await broker?.destroy();
  });

  const provision = (t: TestTenant, deviceId: string = randomUUID()) =>
    runAsTenant(parseTenantSlug(t.slug), () => client.request(Contracts.edge.devices.provision, { deviceId }));
  const revoke = (t: TestTenant, deviceId: string) =>
    runAsTenant(parseTenantSlug(t.slug), () => client.request(Contracts.edge.devices.revoke, { deviceId }));
  const ingest = (token: string, body: unknown, raw?: string) =>
    httpRequest({
      port: stack.app('edge-store').port,
      method: 'POST',
      path: '/ingest',
      headers: { authorization: `Bearer ${token}` },
      ...(raw !== undefined ? { rawBody: raw } : { body }),
    });
  const telemetry = (t: TestTenant, deviceId: string, query = `from=${HOUR_AGO()}&to=${SOON()}`) =>
    stack.request({ path: `/v1/devices/${deviceId}/telemetry?${query}`, tenant: t.slug, apiKey: t.apiKey });
  const connectDevice = async (credentials: DeviceCredentials, options: mqtt.IClientOptions = {}) => {
    const device = await mqtt.connectAsync(broker.url, {
      username: credentials.mqtt.username,
      password: credentials.token,
      clientId: `device-${credentials.deviceId}-${randomUUID().slice(0, 8)}`,
      reconnectPeriod: 0,
      ...options,
    });
    devices.push(device);
    return device;
  };
  const reading = (seq: number, metrics: Record<string, number> = { temp: 20 + seq }, ts = new Date()) => ({
    seq,
    ts: ts.toISOString(),
    metrics,
  });

  it('edge - end to end over MQTT: QoS 1 PUBACK, then read back through the gateway', async () => {
    const credentials = await provision(tenant);
    const device = await connectDevice(credentials);
    await device.publishAsync(credentials.mqtt.topic, JSON.stringify([reading(1), reading(2)]), { qos: 1 });
    const points = await eventually(async () => {
      const res = await telemetry(tenant, credentials.deviceId);
      return res.body.points?.length === 2 ? res.body.points : false;
    });
    expect(points.map((p: { seq: number }) => p.seq)).toEqual([1, 2]);
    expect(points[0].metrics).toEqual({ temp: 21 });
    expect(points[0]).toHaveProperty('receivedAt');
  });

  it('edge - end to end over HTTP: 202 after commit (readable at once), then read back through the gateway', async () => {
    const credentials = await provision(tenant);
    const res = await ingest(credentials.token, [reading(1), reading(2), reading(3)]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 3 });
    const read = await telemetry(tenant, credentials.deviceId);
    expect(read.body.points.map((p: { seq: number }) => p.seq)).toEqual([1, 2, 3]);
  });

  it('edge - a resent reading (same device and seq) is stored once, over HTTP and MQTT alike', async () => {
    const credentials = await provision(tenant);
    expect((await ingest(credentials.token, reading(7))).status).toBe(202);
    expect((await ingest(credentials.token, [reading(7), reading(7)])).status).toBe(202);
    const device = await connectDevice(credentials);
    await device.publishAsync(credentials.mqtt.topic, JSON.stringify(reading(7)), { qos: 1 });
    await device.publishAsync(credentials.mqtt.topic, JSON.stringify(reading(8)), { qos: 1 });
    await eventually(async () => (await telemetry(tenant, credentials.deviceId)).body.points?.length === 2);
    const rows = await stack.tenantSql<{ n: number }>(
      tenant.slug,
      'edge',
      'SELECT count(*)::int AS n FROM readings WHERE device_id = $1',
      [credentials.deviceId],
    );
    expect(rows[0]!.n).toBe(2);
  });

  it('edge - late data is accepted and both device time and receive time are stored', async () => {
    const credentials = await provision(tenant);
    const lastWeek = new Date(Date.now() - 7 * 86_400_000);
    expect((await ingest(credentials.token, reading(1, { v: 1 }, lastWeek))).status).toBe(202);
    const res = await telemetry(
      tenant,
      credentials.deviceId,
      `from=${new Date(Date.now() - 8 * 86_400_000).toISOString()}&to=${SOON()}`,
    );
    expect(res.body.points[0].ts).toBe(lastWeek.toISOString());
    expect(Date.parse(res.body.points[0].receivedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('edge - buckets give avg, min, max and count per metric; raw points page with a cursor', async () => {
    const credentials = await provision(tenant);
    const yesterday = new Date(Date.now() - 86_400_000);
    const base = Date.UTC(yesterday.getUTCFullYear(), yesterday.getUTCMonth(), yesterday.getUTCDate(), 10, 0, 0);
    const at = (minute: number, second: number) => new Date(base + minute * 60_000 + second * 1000);
    await ingest(credentials.token, [
      reading(1, { temp: 10, hum: 50 }, at(0, 5)),
      reading(2, { temp: 20 }, at(0, 35)),
      reading(3, { temp: 30 }, at(1, 10)),
    ]);
    const window = `from=${new Date(base).toISOString()}&to=${new Date(base + 3_600_000).toISOString()}`;
    const buckets = await telemetry(tenant, credentials.deviceId, `${window}&bucket=1m`);
    expect(buckets.status).toBe(200);
    expect(buckets.body.buckets).toEqual([
      { start: at(0, 0).toISOString(), metric: 'hum', avg: 50, min: 50, max: 50, count: 1 },
      { start: at(0, 0).toISOString(), metric: 'temp', avg: 15, min: 10, max: 20, count: 2 },
      { start: at(1, 0).toISOString(), metric: 'temp', avg: 30, min: 30, max: 30, count: 1 },
    ]);
    const hourly = await telemetry(tenant, credentials.deviceId, `${window}&bucket=1h`);
    expect(hourly.body.buckets.find((b: { metric: string }) => b.metric === 'temp')).toMatchObject({
      avg: 20,
      count: 3,
    });
    const page1 = await telemetry(tenant, credentials.deviceId, `${window}&limit=2`);
    expect(page1.body.points.map((p: { seq: number }) => p.seq)).toEqual([1, 2]);
    const page2 = await telemetry(tenant, credentials.deviceId, `${window}&limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.points.map((p: { seq: number }) => p.seq)).toEqual([3]);
    expect(page2.body.nextCursor).toBeNull();
  });

  it('edge - a device cannot publish as another device or into another tenant', async () => {
    const other = await stack.createTenant('other');
    const [mine, neighbour, foreign] = [await provision(tenant), await provision(tenant), await provision(other)];
    const device = await connectDevice(mine);
    await device.publishAsync(neighbour.mqtt.topic, JSON.stringify(reading(666)), { qos: 1 });
    await device.publishAsync(foreign.mqtt.topic, JSON.stringify(reading(667)), { qos: 1 });
    await device.publishAsync(mine.mqtt.topic, JSON.stringify(reading(1)), { qos: 1 });
    await eventually(async () => (await telemetry(tenant, mine.deviceId)).body.points?.length === 1);
    expect((await telemetry(tenant, neighbour.deviceId)).body.points).toEqual([]);
    expect((await telemetry(other, foreign.deviceId)).body.points).toEqual([]);
    // Over HTTP the tenant and the device come from the token: a body cannot redirect it.
    expect((await ingest(mine.token, { ...reading(2), deviceId: neighbour.deviceId })).status).toBe(400);
    expect((await ingest(mine.token.replace(tenant.slug, other.slug), reading(3))).status).toBe(401);
  });

  it('edge - a revoked device is refused at once, over HTTP and MQTT', async () => {
    const credentials = await provision(tenant);
    expect((await ingest(credentials.token, reading(1))).status).toBe(202);
    const device = await connectDevice(credentials);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    await revoke(tenant, credentials.deviceId);
    expect((await ingest(credentials.token, reading(2))).status).toBe(401);
    await closed;
    await expect(connectDevice(credentials)).rejects.toThrow();
    const again = await provision(tenant, credentials.deviceId);
    expect(again.token).not.toBe(credentials.token);
    expect((await ingest(again.token, reading(3))).status).toBe(202);
  });

  describe('invalid input gets its reasons, never a silent drop', () => {
    it.each([
      ['a missing seq', { ts: new Date().toISOString(), metrics: { a: 1 } }, 'seq'],
      ['a negative seq', { seq: -1, ts: new Date().toISOString(), metrics: { a: 1 } }, 'seq'],
      ['a bad ts', { seq: 1, ts: 'yesterday', metrics: { a: 1 } }, 'ts'],
      [
        'a ts 10 minutes ahead',
        { seq: 1, ts: new Date(Date.now() + 600_000).toISOString(), metrics: { a: 1 } },
        'future',
      ],
      ['no metrics', { seq: 1, ts: new Date().toISOString(), metrics: {} }, 'metrics'],
      ['a non-numeric metric', { seq: 1, ts: new Date().toISOString(), metrics: { a: 'x' } }, 'finite number'],
      [
        '101 metrics',
        {
          seq: 1,
          ts: new Date().toISOString(),
          metrics: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`m${i}`, i])),
        },
        '100 metrics',
      ],
      ['an unknown field', { seq: 1, ts: new Date().toISOString(), metrics: { a: 1 }, tenant: 'x' }, 'unknown field'],
    ])('HTTP with %s -> 400 naming the reason, nothing stored', async (_label, bad, reason) => {
      const credentials = await provision(tenant);
      const res = await ingest(credentials.token, [reading(1), bad]);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_READINGS');
      expect(res.body.errors.join(' ')).toContain('readings[1]');
      expect(res.body.errors.join(' ')).toContain(reason);
      expect((await telemetry(tenant, credentials.deviceId)).body.points).toEqual([]);
    });

    it('HTTP with more than 1,000 readings -> 400; malformed JSON -> 400; over the body limit -> 413', async () => {
      const credentials = await provision(tenant);
      const many = Array.from({ length: 1_001 }, (_, i) => reading(i));
      expect((await ingest(credentials.token, many)).status).toBe(400);
      const malformed = await ingest(credentials.token, undefined, '[{"seq": 1,');
      expect(malformed.status).toBe(400);
      expect(malformed.body.code).toBe('MALFORMED_JSON');
      const huge = await ingest(credentials.token, [
        { seq: 1, ts: new Date().toISOString(), metrics: { a: 1 }, pad: 'x'.repeat(1_200_000) },
      ]);
      expect(huge.status).toBe(413);
    });

    it('HTTP without a valid token -> 401', async () => {
      expect((await ingest('nope', reading(1))).status).toBe(401);
      const forged = `pdt_${tenant.slug}.${randomUUID()}.${'A'.repeat(43)}`;
      expect((await ingest(forged, reading(1))).status).toBe(401);
    });

    it('MQTT invalid messages are acknowledged only once kept as dead letters, with the reason', async () => {
      const credentials = await provision(tenant);
      const device = await connectDevice(credentials);
      await device.publishAsync(credentials.mqtt.topic, 'not json', { qos: 1 });
      await device.publishAsync(credentials.mqtt.topic, JSON.stringify({ seq: 1, ts: 'soon', metrics: { a: 1 } }), {
        qos: 1,
      });
      const letters = await eventually(async () => {
        const rows = await stack.tenantSql<{ reason: string }>(
          tenant.slug,
          'edge',
          'SELECT reason FROM dead_letters WHERE device_id = $1 ORDER BY id',
          [credentials.deviceId],
        );
        return rows.length === 2 ? rows : false;
      });
      // Messages are handled concurrently: the two letters may be stored in either order.
      const reasons = letters.map((l) => l.reason);
      expect(reasons.filter((r) => r.includes('not valid JSON'))).toHaveLength(1);
      expect(reasons.filter((r) => r.includes('ts must be'))).toHaveLength(1);
      const metrics = (await httpRequest({ port: stack.app('edge-store').port, path: '/metrics' })).text;
      expect(metrics).toMatch(/polystore_ingest_rejected_total\{[^}]*path="mqtt"[^}]*\} [1-9]/);
    });
  });

  it('edge - the tenant database holds no plaintext token', async () => {
    const credentials = await provision(tenant);
    // Every table of the tenant's own data (its schema in the shared database, or its database).
    const dump = await dumpTenantData(await stack.placement(tenant.slug, 'edge'));
    expect(dump).toContain(`device_credentials: (${credentials.deviceId},`); // not vacuous: the credential is there
    expect(dump).not.toContain(credentials.token.split('.').pop()!);
  });
});
