import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Contracts, type DeviceCredentials, type MessageClient } from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import mqtt, { type MqttClient } from 'mqtt';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { BrokerKeys, DeviceCredentialIssuer } from '#polystore/device-broker';
import type { PrivateBroker } from '../support/device-broker.js';
import { deadLettersOf, streamedCount } from '../support/telemetry-stream.js';
import { stackClient } from '../support/nats.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { dumpTenantData } from '../support/tenant-data.js';

const HOUR_AGO = () => new Date(Date.now() - 3_600_000).toISOString();
const SOON = () => new Date(Date.now() + 60_000).toISOString();

describe('edge store - devices push telemetry over MQTT and HTTP (e2e, real NATS device broker and PostgreSQL)', () => {
  let broker: PrivateBroker;
  let stack: TestStack;
  let nc: NatsConnection;
  let client: MessageClient;
  let tenant: TestTenant;
  const devices: MqttClient[] = [];

  beforeAll(async () => {
    // 50 readings/s per device, bursts of 500: room for every test but the flood.
    stack = await TestStack.start({ apps: ['edge-store', 'gateway'], env: { DEVICE_RATE_LIMIT_PER_S: '50' } });
    broker = stack.broker as PrivateBroker;
    ({ nc, client } = await stackClient(stack.prefix, 5_000));
    tenant = await stack.createTenant();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.endAsync(true).catch(() => undefined)));
    await nc?.drain();
    await stack?.close();
  });

  const provision = (t: TestTenant, deviceId: string = randomUUID()) =>
    runAsTenant(parseTenantSlug(t.slug), () => client.request(Contracts.edge.devices.provision, { deviceId }));
  /** The edge store's step of the rotation saga (`device-credential-rotation`), as the gateway's orchestrator sends it. */
  const rotateStep = (t: TestTenant, deviceId: string) =>
    runAsTenant(parseTenantSlug(t.slug), () =>
      client.request(Contracts.sagaSteps.edge.rotateCredential, {
        sagaId: randomUUID(),
        step: 'rotate',
        phase: 'action',
        deviceId,
      }),
    );
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
    const device = await mqtt.connectAsync(broker.mqttUrl, {
      username: credentials.mqtt.username,
      password: credentials.token,
      clientId: `device-${credentials.deviceId}-${randomUUID().slice(0, 8)}`,
      reconnectPeriod: 0,
      ...options,
    });
    devices.push(device);
    return device;
  };
  /** The device's points once there are `count` of them (HTTP ingest answers when the stream has them). */
  const pointsOf = async (t: TestTenant, deviceId: string, count: number, query?: string) =>
    eventually(async () => {
      const res = await telemetry(t, deviceId, query);
      return res.body.points?.length === count
        ? (res.body.points as Array<{ seq: number; ts: string; receivedAt: string }>)
        : false;
    });
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

  it('edge - end to end over HTTP: 202 once the stream has it, then read back through the gateway', async () => {
    const credentials = await provision(tenant);
    const res = await ingest(credentials.token, [reading(1), reading(2), reading(3)]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 3 });
    const points = await pointsOf(tenant, credentials.deviceId, 3);
    expect(points.map((p) => p.seq)).toEqual([1, 2, 3]);
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
    const points = await pointsOf(
      tenant,
      credentials.deviceId,
      1,
      `from=${new Date(Date.now() - 8 * 86_400_000).toISOString()}&to=${SOON()}`,
    );
    expect(points[0]!.ts).toBe(lastWeek.toISOString());
    expect(Date.parse(points[0]!.receivedAt)).toBeGreaterThan(Date.now() - 60_000);
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
    await pointsOf(tenant, credentials.deviceId, 3, window);
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
    // The broker acknowledged the foreign publishes and kept neither.
    expect(await streamedCount(broker, `tenants.${tenant.slug}.devices.${neighbour.deviceId}.telemetry`)).toBe(0);
    expect(await streamedCount(broker, `tenants.${other.slug}.devices.${foreign.deviceId}.telemetry`)).toBe(0);
    // Over HTTP the tenant and the device come from the credential: a body cannot redirect it,
    // and a credential whose claims are edited (another tenant) fails its signature.
    expect((await ingest(mine.token, { ...reading(2), deviceId: neighbour.deviceId })).status).toBe(400);
    const [header, body, signature] = mine.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    claims.nats.tags = claims.nats.tags.map((t: string) => t.replace(tenant.slug, other.slug));
    claims.nats.pub.allow = [`tenants.${other.slug}.devices.${mine.deviceId}.telemetry`];
    const edited = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect((await ingest(edited, reading(3))).status).toBe(401);
    await expect(connectDevice({ ...mine, token: edited })).rejects.toThrow(/Not authorized/);
  });

  it('edge - a revoked device is refused at once, over HTTP and MQTT', async () => {
    const credentials = await provision(tenant);
    expect((await ingest(credentials.token, reading(1))).status).toBe(202);
    const device = await connectDevice(credentials);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const revokedAt = Date.now();
    await revoke(tenant, credentials.deviceId);
    expect((await ingest(credentials.token, reading(2))).status).toBe(401);
    await closed;
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
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

    it('HTTP and MQTT without a valid credential -> 401 / not authorized: garbage, another key, expired', async () => {
      expect((await ingest('nope', reading(1))).status).toBe(401);
      const deviceId = randomUUID();
      // A well-formed credential signed by a broker key of someone else's.
      const forged = new DeviceCredentialIssuer(new BrokerKeys(Buffer.alloc(32, 1)), 3_600).issue(
        tenant.slug,
        deviceId,
        1,
      );
      expect((await ingest(forged, reading(1))).status).toBe(401);
      await expect(
        connectDevice({ deviceId, token: forged, mqtt: { username: deviceId, topic: 'x' } }),
      ).rejects.toThrow(/Not authorized/);
      // The right key, but expired an hour ago.
      const expired = new DeviceCredentialIssuer(broker.keys, 60).issue(
        tenant.slug,
        deviceId,
        1,
        Math.floor(Date.now() / 1000) - 3_600,
      );
      expect((await ingest(expired, reading(1))).status).toBe(401);
      await expect(
        connectDevice({ deviceId, token: expired, mqtt: { username: deviceId, topic: 'x' } }),
      ).rejects.toThrow();
    });

    it('MQTT invalid messages go to the dead-letter stream with their reason, and never block valid ones', async () => {
      const credentials = await provision(tenant);
      const device = await connectDevice(credentials);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      await device.publishAsync(credentials.mqtt.topic, 'not json', { qos: 1 });
      await device.publishAsync(credentials.mqtt.topic, JSON.stringify({ seq: 1, ts: 'soon', metrics: { a: 1 } }), {
        qos: 1,
      });
      await device.publishAsync(credentials.mqtt.topic, JSON.stringify({ seq: 2, ts: future, metrics: { a: 1 } }), {
        qos: 1,
      });
      await device.publishAsync(credentials.mqtt.topic, JSON.stringify({ seq: 3, ts: new Date().toISOString() }), {
        qos: 1,
      });
      await device.publishAsync(
        credentials.mqtt.topic,
        JSON.stringify({ seq: 4, ts: new Date().toISOString(), metrics: { a: 'x' } }),
        { qos: 1 },
      );
      await device.publishAsync(credentials.mqtt.topic, JSON.stringify(reading(5)), { qos: 1 });
      const letters = await eventually(async () => {
        const found = await deadLettersOf(broker, tenant.slug, credentials.deviceId);
        return found.length === 5 ? found : false;
      });
      expect(letters.every((l) => l.reason === 'invalid-payload')).toBe(true);
      expect(
        letters.every((l) => l.origin === `tenants.${tenant.slug}.devices.${credentials.deviceId}.telemetry`),
      ).toBe(true);
      const details = letters.map((l) => l.detail).join(' | ');
      expect(details).toContain('not valid JSON');
      expect(details).toContain('ts must be');
      expect(details).toContain('future');
      expect(details).toContain('metrics must be');
      expect(details).toContain('finite number');
      expect(letters.map((l) => l.payload)).toContain('not json');
      expect((await pointsOf(tenant, credentials.deviceId, 1)).map((p) => p.seq)).toEqual([5]);
      const metrics = (await httpRequest({ port: stack.app('edge-store').port, path: '/metrics' })).text;
      expect(metrics).toMatch(/polystore_ingest_dead_letters_total\{reason="invalid-payload"[^}]*\} [5-9]/);
    });

    it('a flooding device is rate-limited (HTTP 429, MQTT dead letters) while another device is served', async () => {
      const [flood, quiet] = [await provision(tenant), await provision(tenant)];
      const batch = (from: number) => Array.from({ length: 200 }, (_, i) => reading(from + i));
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await ingest(flood.token, batch(i * 200))).status);
      expect(statuses.slice(0, 2)).toEqual([202, 202]);
      expect(statuses).toContain(429);
      const device = await connectDevice(flood);
      await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          device.publishAsync(flood.mqtt.topic, JSON.stringify(reading(10_000 + i)), { qos: 1 }),
        ),
      );
      expect((await ingest(quiet.token, reading(1))).status).toBe(202);
      await pointsOf(tenant, quiet.deviceId, 1);
      const letters = await eventually(async () => {
        const found = await deadLettersOf(broker, tenant.slug, flood.deviceId);
        return found.length > 0 ? found : false;
      });
      expect(letters.every((l) => l.reason === 'rate-limited')).toBe(true);
    });
  });

  it('edge - deleting the tenant refuses its devices at once and closes their connections', async () => {
    const doomed = await stack.createTenant('gone');
    const credentials = await provision(doomed);
    const device = await connectDevice(credentials);
    await device.publishAsync(credentials.mqtt.topic, JSON.stringify(reading(1)), { qos: 1 });
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    expect([200, 202, 204]).toContain((await stack.admin('DELETE', `/admin/tenants/${doomed.slug}`)).status);
    await closed;
    await expect(connectDevice(credentials)).rejects.toThrow(/Not authorized/);
    expect((await ingest(credentials.token, reading(2))).status).toBe(401);
  });

  it("edge - rotating a credential (the rotation saga's edge step): the new one works, the old one is refused and disconnected", async () => {
    const credentials = await provision(tenant);
    const device = await connectDevice(credentials);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const step = await rotateStep(tenant, credentials.deviceId);
    expect(step.result).toEqual({ deviceId: credentials.deviceId, generation: 2, replaced: 1 });
    await closed;
    const rotated = await runAsTenant(parseTenantSlug(tenant.slug), () =>
      client.request(Contracts.edge.devices.credential, { deviceId: credentials.deviceId }),
    );
    expect(rotated.token).not.toBe(credentials.token);
    expect((await ingest(credentials.token, reading(1))).status).toBe(401);
    await expect(connectDevice(credentials)).rejects.toThrow(/Not authorized/);
    const fresh = await connectDevice(rotated);
    await fresh.publishAsync(rotated.mqtt.topic, JSON.stringify(reading(2)), { qos: 1 });
    expect((await ingest(rotated.token, reading(3))).status).toBe(202);
    expect((await pointsOf(tenant, credentials.deviceId, 2)).map((p) => p.seq)).toEqual([2, 3]);
    // A device without an active credential cannot be rotated.
    await revoke(tenant, credentials.deviceId);
    await expect(rotateStep(tenant, credentials.deviceId)).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
  });

  it('edge - a device renews its credential with the current one; a revoked one cannot', async () => {
    const credentials = await provision(tenant);
    const renewed = await httpRequest({
      port: stack.app('edge-store').port,
      method: 'POST',
      path: '/credentials/renew',
      headers: { authorization: `Bearer ${credentials.token}` },
    });
    expect(renewed.status).toBe(200);
    expect(renewed.body.deviceId).toBe(credentials.deviceId);
    expect(Date.parse(renewed.body.expiresAt)).toBeGreaterThan(Date.now() + 86_400_000);
    expect((await ingest(renewed.body.token, reading(1))).status).toBe(202);
    await revoke(tenant, credentials.deviceId);
    const refused = await httpRequest({
      port: stack.app('edge-store').port,
      method: 'POST',
      path: '/credentials/renew',
      headers: { authorization: `Bearer ${renewed.body.token}` },
    });
    expect(refused.status).toBe(401);
  });

  it('edge - the tenant database holds no plaintext token', async () => {
    const credentials = await provision(tenant);
    // Every table of the tenant's own data (its schema in the shared database, or its database).
    const dump = await dumpTenantData(await stack.placement(tenant.slug, 'edge'));
    expect(dump).toContain(`device_credentials: (${credentials.deviceId},`); // not vacuous: the credential is there
    expect(dump).not.toContain(credentials.token.split('.').pop()!);
  });

  it('edge - across a SIGKILL of the edge store and a restart of the broker, revoked credentials stay refused and revoking still works', async () => {
    const revoked = await provision(tenant);
    await revoke(tenant, revoked.deviceId);
    const live = await provision(tenant);
    const before = stack.app('edge-store').child.pid;
    await stack.app('edge-store').stop('SIGKILL');
    await stack.startApp('edge-store');
    expect(stack.app('edge-store').child.pid).not.toBe(before);
    await broker.restart();
    await expect(connectDevice(revoked)).rejects.toThrow(/Not authorized/);
    expect((await ingest(revoked.token, reading(1))).status).toBe(401);
    const device = await eventually(() => connectDevice(live).catch(() => false as const), {
      what: 'the device connected again after the broker restart',
    });
    await device.publishAsync(live.mqtt.topic, JSON.stringify(reading(1)), { qos: 1 });
    await pointsOf(tenant, live.deviceId, 1);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    await eventually(async () => {
      await revoke(tenant, live.deviceId);
      return true;
    });
    await closed;
    await expect(connectDevice(live)).rejects.toThrow(/Not authorized/);
  });
});
