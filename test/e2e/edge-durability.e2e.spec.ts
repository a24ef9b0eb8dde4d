import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Contracts, type DeviceCredentials } from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import mqtt, { type MqttClient } from 'mqtt';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { PrivateMosquitto } from '../support/mosquitto-server.js';
import { stackClient } from '../support/nats.js';
import { PrivatePostgres } from '../support/postgres-server.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { tenantSql, type TenantPlacement } from '../support/tenant-data.js';

const reading = (seq: number) => ({ seq, ts: new Date().toISOString(), metrics: { v: seq } });

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? 0) / 1024;
}

/** A test stack with its own broker, and helpers to provision devices and connect them. */
async function edgeStack(
  options: { apps?: Parameters<typeof TestStack.start>[0]['apps']; env?: Record<string, string> } = {},
) {
  const broker = await PrivateMosquitto.create();
  const stack = await TestStack.start({
    apps: options.apps ?? ['edge-store', 'gateway'],
    env: { MQTT_URL: broker.url, MQTT_ADMIN_PASSWORD: broker.adminPassword, ...(options.env ?? {}) },
  });
  const { nc, client } = await stackClient(stack.prefix, 10_000);
  const clients: MqttClient[] = [];
  return {
    broker,
    stack,
    nc,
    client: client,
    provision: (t: TestTenant) =>
      runAsTenant(parseTenantSlug(t.slug), () =>
        client.request(Contracts.edge.devices.provision, { deviceId: randomUUID() }),
      ),
    async connect(credentials: DeviceCredentials): Promise<MqttClient> {
      const device = await mqtt.connectAsync(broker.url, {
        username: credentials.mqtt.username,
        password: credentials.token,
        clientId: `dev-${credentials.deviceId.slice(0, 8)}-${randomUUID().slice(0, 6)}`,
        reconnectPeriod: 0,
      });
      clients.push(device);
      return device;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await nc.drain().catch(() => undefined);
      await stack.close();
      await broker.destroy();
    },
  };
}

/** Readings stored in the tenant's edge data (its placement, read once from the admin API). */
async function storedCount(placement: TenantPlacement): Promise<number> {
  return (await tenantSql<{ n: number }>(placement, 'SELECT count(*)::int AS n FROM readings'))[0]!.n;
}

describe('edge store - durability under crashes and overload (e2e)', () => {
  describe('the edge store killed (SIGKILL) during a load of 20,000 readings, then restarted', () => {
    let env: Awaited<ReturnType<typeof edgeStack>>;
    let tenant: TestTenant;
    let edgeData: TenantPlacement;

    beforeAll(async () => {
      env = await edgeStack();
      tenant = await env.stack.createTenant('crash');
      edgeData = await env.stack.placement(tenant.slug, 'edge');
    }, 60_000);

    afterAll(async () => {
      await env?.close();
    });

    it('every acknowledged reading (PUBACK or 202) is stored exactly once', async () => {
      const mqttDevices = await Promise.all(Array.from({ length: 18 }, () => env.provision(tenant)));
      const httpDevices = await Promise.all(Array.from({ length: 2 }, () => env.provision(tenant)));
      const acknowledged = new Set<string>();

      const mqttLoad = mqttDevices.map(async (credentials) => {
        const device = await env.connect(credentials);
        const publishes: Array<Promise<unknown>> = [];
        for (let seq = 1; seq <= 1_000; seq++) {
          publishes.push(
            device
              .publishAsync(credentials.mqtt.topic, JSON.stringify(reading(seq)), { qos: 1 })
              .then(() => acknowledged.add(`${credentials.deviceId}:${seq}`)),
          );
          if (seq % 100 === 0) await Promise.all(publishes.splice(0));
        }
        await Promise.all(publishes);
      });
      const httpLoad = httpDevices.map(async (credentials) => {
        for (let start = 1; start <= 1_000; start += 50) {
          const batch = Array.from({ length: 50 }, (_, i) => reading(start + i));
          for (;;) {
            const port = env.stack.app('edge-store').port;
            const res = await httpRequest({
              port,
              method: 'POST',
              path: '/ingest',
              headers: { authorization: `Bearer ${credentials.token}` },
              body: batch,
            }).catch(() => null);
            if (res?.status === 202) {
              batch.forEach((r) => acknowledged.add(`${credentials.deviceId}:${r.seq}`));
              break;
            }
            await eventually(() => env.stack.app('edge-store').isRunning, { timeoutMs: 30_000 });
          }
        }
      });

      // Kill the store once part of the load is stored, while devices keep publishing.
      await eventually(async () => (await storedCount(edgeData)) >= 4_000, {
        timeoutMs: 60_000,
        what: '4,000 readings stored',
      });
      await env.stack.app('edge-store').stop('SIGKILL');
      await Promise.all(mqttLoad); // the broker keeps acknowledging devices and queues for the store's session
      await env.stack.startApp('edge-store');
      await Promise.all(httpLoad);

      expect(acknowledged.size).toBe(20_000);
      await eventually(async () => (await storedCount(edgeData)) === 20_000, {
        timeoutMs: 90_000,
        what: 'all 20,000 readings stored',
      });
      const perDevice = await tenantSql<{ device_id: string; n: number; distinct_seq: number; max_seq: string }>(
        edgeData,
        'SELECT device_id, count(*)::int AS n, count(DISTINCT seq)::int AS distinct_seq, max(seq) AS max_seq FROM readings GROUP BY device_id',
      );
      expect(perDevice).toHaveLength(20);
      for (const row of perDevice)
        expect([row.n, row.distinct_seq, Number(row.max_seq)]).toEqual([1_000, 1_000, 1_000]);
    }, 180_000);
  });

  describe('backpressure', () => {
    let env: Awaited<ReturnType<typeof edgeStack>>;
    let tenant: TestTenant;
    let edgeData: TenantPlacement;

    beforeAll(async () => {
      env = await edgeStack({
        env: {
          INGEST_MAX_QUEUED_READINGS: '2000',
          INGEST_MAX_CONCURRENT_WRITES: '1',
          INGEST_BATCH_MAX_ROWS: '500',
          MQTT_RECEIVE_MAXIMUM: '200',
        },
      });
      tenant = await env.stack.createTenant('pressure');
      edgeData = await env.stack.placement(tenant.slug, 'edge');
    }, 60_000);

    afterAll(async () => {
      await env?.close();
    });

    it('overload gets 429 with Retry-After over HTTP, MQTT waits unacknowledged, memory stays bounded, nothing acknowledged is lost', async () => {
      const edge = env.stack.app('edge-store');
      const before = rssMb(edge.child.pid!);
      let peakRss = before;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peakRss = Math.max(peakRss, rssMb(edge.child.pid!));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();

      const httpDevices = await Promise.all(Array.from({ length: 10 }, () => env.provision(tenant)));
      let accepted = 0;
      let refused = 0;
      let retryAfter: string | undefined;
      await Promise.all(
        httpDevices.map(async (credentials) => {
          for (let round = 0; round < 6; round++) {
            const batch = Array.from({ length: 1_000 }, (_, i) => reading(round * 1_000 + i));
            const res = await httpRequest({
              port: edge.port,
              method: 'POST',
              path: '/ingest',
              headers: { authorization: `Bearer ${credentials.token}` },
              body: batch,
            });
            if (res.status === 202) accepted += 1_000;
            else if (res.status === 429) {
              refused++;
              retryAfter = String(res.headers['retry-after']);
            } else throw new Error(`unexpected ${res.status}: ${res.text}`);
          }
        }),
      );

      const mqttDevice = await env.provision(tenant);
      const device = await env.connect(mqttDevice);
      let sawWaiting = false;
      const watcher = (async () => {
        while (!sawWaiting && sampling) {
          const metrics = (await httpRequest({ port: edge.port, path: '/metrics' })).text;
          if (/polystore_mqtt_(waiting_for_room|held_acks)\S* ([1-9]\d*)/.test(metrics)) sawWaiting = true;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      await Promise.all(
        Array.from({ length: 3_000 }, (_, seq) =>
          device.publishAsync(mqttDevice.mqtt.topic, JSON.stringify(reading(seq)), { qos: 1 }),
        ),
      );
      await eventually(async () => (await storedCount(edgeData)) === accepted + 3_000, {
        timeoutMs: 60_000,
        what: 'everything acknowledged stored',
      });
      sampling = false;
      await Promise.all([sampler, watcher]);

      expect(refused).toBeGreaterThan(0);
      expect(retryAfter).toBe('1');
      expect(accepted).toBeGreaterThan(0);
      expect(sawWaiting).toBe(true);
      expect(peakRss - before).toBeLessThan(200);
    }, 120_000);
  });

  describe('the edge database server down', () => {
    let env: Awaited<ReturnType<typeof edgeStack>>;
    let edgeServer: PrivatePostgres;
    let tenant: TestTenant;

    beforeAll(async () => {
      edgeServer = await PrivatePostgres.create();
      env = await edgeStack({
        apps: ['secure-store', 'edge-store', 'gateway'],
        env: { EDGE_SERVER_URL: edgeServer.url, EDGE_DB_CIRCUIT_HALF_OPEN_MS: '500' },
      });
      tenant = await env.stack.createTenant('edgedown');
    }, 90_000);

    afterAll(async () => {
      await env?.close();
      edgeServer?.destroy();
    });

    it('ingest stops acknowledging (devices keep their data at the broker), other stores keep serving, and everything lands on recovery', async () => {
      const customer = await env.stack.request({
        method: 'POST',
        path: '/v1/customers',
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
        body: { name: 'Ops', email: 'ops@example.com' },
      });
      expect(customer.status).toBe(201);
      const credentials = await env.provision(tenant);
      const device = await env.connect(credentials);
      // The tenant's edge data is on the private edge server (read while the gateway is up).
      const edgeData = await env.stack.placement(tenant.slug, 'edge');
      expect(edgeData.server).toBe(`postgres://127.0.0.1:${edgeServer.port}`);
      const count = () => storedCount(edgeData);
      await device.publishAsync(credentials.mqtt.topic, JSON.stringify(reading(0)), { qos: 1 });
      await eventually(async () => (await count()) === 1, { what: 'the first reading stored on the edge server' });

      edgeServer.stop();
      for (let seq = 1; seq <= 50; seq++)
        await device.publishAsync(credentials.mqtt.topic, JSON.stringify(reading(seq)), { qos: 1 });
      const edge = env.stack.app('edge-store');
      await eventually(
        async () =>
          /polystore_mqtt_held_acks\S* 50\b/.test((await httpRequest({ port: edge.port, path: '/metrics' })).text),
        {
          what: '50 messages held unacknowledged',
        },
      );
      const http = await httpRequest({
        port: edge.port,
        method: 'POST',
        path: '/ingest',
        headers: { authorization: `Bearer ${credentials.token}` },
        body: reading(99),
      });
      expect([401, 503]).toContain(http.status); // the token check itself needs the edge database
      const secure = await env.stack.request({
        path: `/v1/customers/${customer.body.id}`,
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
      });
      expect(secure.status).toBe(200);

      await edgeServer.start();
      await eventually(async () => (await count()) === 51, {
        timeoutMs: 60_000,
        what: 'the 50 held readings stored after recovery',
      });
      await eventually(async () =>
        /polystore_mqtt_held_acks\S* 0\b/.test((await httpRequest({ port: edge.port, path: '/metrics' })).text),
      );
    }, 120_000);
  });
});
