import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { telemetryTopic } from '../src/broker/broker-access.js';
import {
  BrokerAccessErrorCode,
  MosquittoDynamicSecurity,
  deviceRoleName,
  ingestRoleName,
} from '../src/broker/mosquitto-dynamic-security.js';
import { eventually } from '../../../test/support/eventually.js';
import { PrivateMosquitto } from '../../../test/support/mosquitto-server.js';

// Integration tests against a Mosquitto 2 of their own (dynamic security plugin), with real MQTT
// clients as devices and as the ingest consumer. MQTT 3.1.1 drops a forbidden publish silently
// (the PUBACK still comes), so "never delivered" is proven by publishing the forbidden message
// first and a legitimate one after it, from the same or an earlier-acknowledged publisher, and
// checking, once the legitimate one has arrived, that the forbidden one did not.

const TENANT = 'acme';
const OTHER_TENANT = 'globex';
const GROUP = 'edge-ingest';
const INGEST_USER = 'polystore-ingest';
const SHARED_FILTER = `$share/${GROUP}/tenants/+/devices/+/telemetry`;

interface Received {
  topic: string;
  payload: string;
}

interface AdminResponse {
  command: string;
  error?: string;
  data?: any;
  correlationData?: string;
}

let broker: PrivateMosquitto;
let access: MosquittoDynamicSecurity;
let ingestPassword: string;
/** The ingest consumer: every telemetry message it receives. */
let consumer: MqttClient;
const received: Received[] = [];
/** A second admin connection: sees every dynsec response (the plugin answers all subscribers). */
let watcher: MqttClient;
const responses: AdminResponse[] = [];
const clients: MqttClient[] = [];

function token(): string {
  return randomBytes(24).toString('base64url');
}

async function connectAs(username: string | undefined, password: string | undefined, options: IClientOptions = {}) {
  const client = await mqtt.connectAsync(
    broker.url,
    {
      username,
      password,
      clientId: `test-${randomBytes(6).toString('hex')}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      protocolVersion: 4,
      ...options,
    },
    false,
  );
  clients.push(client);
  return client;
}

/** The CONNACK return code of a refused connection (throws if the connection is accepted). */
async function refusalCode(username: string | undefined, password: string | undefined): Promise<number> {
  const client = await connectAs(username, password).catch((error: { code?: number }) => error);
  if ('publish' in client) throw new Error(`connection as ${username} was accepted`);
  return client.code ?? -1;
}

/** `operation`, or a failure as soon as the connection closes (mqtt.js would otherwise wait for a reconnect). */
function orClosed<T>(client: MqttClient, operation: Promise<T>): Promise<T> {
  if (client.disconnected || !client.connected) return Promise.reject(new Error('connection already closed'));
  return Promise.race([
    operation,
    new Promise<never>((_, reject) => client.once('close', () => reject(new Error('connection closed')))),
  ]);
}

async function publish(client: MqttClient, topic: string, payload: string, options: { qos: 1 }): Promise<void> {
  await orClosed(client, client.publishAsync(topic, payload, options));
}

/** The SUBACK code for `filter` (128 = refused; mqtt.js rejects on it, with the SUBACK attached). */
async function subackCode(client: MqttClient, filter: string): Promise<number> {
  try {
    const [grant] = await client.subscribeAsync(filter, { qos: 1 });
    return grant?.qos ?? -1;
  } catch (error) {
    const granted = (error as { packet?: { granted?: (number | { qos: number })[] } }).packet?.granted?.[0];
    if (granted === undefined) throw error;
    return typeof granted === 'number' ? granted : granted.qos;
  }
}

function closedSignal(client: MqttClient): { closed: boolean } {
  const state = { closed: false };
  client.once('close', () => (state.closed = true));
  return state;
}

async function connectConsumer(): Promise<MqttClient> {
  const client = await connectAs(INGEST_USER, ingestPassword);
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
  const [grant] = await client.subscribeAsync(SHARED_FILTER, { qos: 1 });
  expect(grant?.qos).toBe(1);
  return client;
}

async function arrived(payload: string): Promise<void> {
  await eventually(() => received.some((message) => message.payload === payload), { what: `delivery of ${payload}` });
}

function deliveredPayloads(marker: string): string[] {
  return received.filter((message) => message.payload.startsWith(marker)).map((message) => message.payload);
}

/** A raw dynsec command through the watcher connection (for reading and tampering with state). */
async function adminCommand(command: Record<string, unknown>): Promise<AdminResponse> {
  const correlationData = `test-${randomUUID()}`;
  await publish(
    watcher,
    '$CONTROL/dynamic-security/v1',
    JSON.stringify({ commands: [{ ...command, correlationData }] }),
    { qos: 1 },
  );
  return eventually(() => responses.find((response) => response.correlationData === correlationData), {
    what: `response to ${String(command['command'])}`,
  });
}

async function grantedDevice(tenant = TENANT) {
  const deviceId = randomUUID();
  const deviceToken = token();
  await access.grantDevice(tenant, deviceId, deviceToken);
  return { deviceId, token: deviceToken, topic: telemetryTopic(tenant, deviceId) };
}

beforeAll(async () => {
  broker = await PrivateMosquitto.create();
  access = await MosquittoDynamicSecurity.connect({
    url: broker.url,
    username: broker.adminUsername,
    password: broker.adminPassword,
  });
  ingestPassword = token();
  await access.ensureIngestAccount(INGEST_USER, ingestPassword, GROUP);
  consumer = await connectConsumer();
  watcher = await connectAs(broker.adminUsername, broker.adminPassword);
  watcher.on('message', (_topic, payload) => {
    responses.push(...(JSON.parse(payload.toString()) as { responses: AdminResponse[] }).responses);
  });
  await watcher.subscribeAsync('$CONTROL/dynamic-security/v1/response', { qos: 1 });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
  await access?.close();
  await broker?.destroy();
});

describe('MosquittoDynamicSecurity (Mosquitto 2 dynamic security plugin)', () => {
  it('connect locks down the default ACL access: no publish, receive or subscribe without a role, unsubscribe allowed', async () => {
    const response = await adminCommand({ command: 'getDefaultACLAccess' });
    expect(response.error).toBeUndefined();
    expect(response.data.acls).toEqual(
      expect.arrayContaining([
        { acltype: 'publishClientSend', allow: false },
        { acltype: 'publishClientReceive', allow: false },
        { acltype: 'subscribe', allow: false },
        { acltype: 'unsubscribe', allow: true },
      ]),
    );
  });

  it('a granted device publishes QoS 1 to its own telemetry topic and the shared-subscription ingest consumer receives it', async () => {
    const device = await grantedDevice();
    const client = await connectAs(device.deviceId, device.token);
    const payload = JSON.stringify({ seq: 1, ts: Date.now(), metrics: { t: 21.5 }, marker: randomUUID() });
    await publish(client, device.topic, payload, { qos: 1 });
    await arrived(payload);
    expect(received.find((message) => message.payload === payload)?.topic).toBe(device.topic);
  });

  it('a wrong password or an unknown or anonymous client is refused with CONNACK 5 (not authorized)', async () => {
    const device = await grantedDevice();
    expect(await refusalCode(device.deviceId, token())).toBe(5);
    expect(await refusalCode(device.deviceId, undefined)).toBe(5);
    expect(await refusalCode(randomUUID(), token())).toBe(5);
    expect(await refusalCode(undefined, undefined)).toBe(5);
  });

  it("a device's publish to another device's topic, another tenant's topic or another subtopic is never delivered, and a device cannot subscribe", async () => {
    const device = await grantedDevice();
    const neighbour = await grantedDevice();
    const client = await connectAs(device.deviceId, device.token);
    const marker = `forbid-${randomUUID()}`;
    const forbidden = [
      neighbour.topic,
      telemetryTopic(OTHER_TENANT, device.deviceId),
      `${device.topic}/extra`,
      `tenants/${TENANT}/devices/${device.deviceId}`,
      'tenants/x',
    ];
    // MQTT 3.1.1: the broker still acknowledges, then drops.
    for (const topic of forbidden) await publish(client, topic, `${marker}:forbidden:${topic}`, { qos: 1 });
    await publish(client, device.topic, `${marker}:legit`, { qos: 1 });
    await arrived(`${marker}:legit`);
    expect(deliveredPayloads(marker)).toEqual([`${marker}:legit`]);

    // Nor can it drive the dynamic security plugin.
    const intruder = `intruder-${randomBytes(4).toString('hex')}`;
    await publish(
      client,
      '$CONTROL/dynamic-security/v1',
      JSON.stringify({ commands: [{ command: 'createClient', username: intruder, password: 'intruder-password' }] }),
      { qos: 1 },
    );
    expect((await adminCommand({ command: 'getClient', username: intruder })).error).toMatch(/not found/i);

    for (const filter of ['tenants/#', device.topic, `$share/${GROUP}/tenants/#`])
      expect({ filter, code: await subackCode(client, filter) }).toEqual({ filter, code: 128 });
  });

  it('granting twice is idempotent (a connected device stays connected) and re-granting with a new token replaces the password', async () => {
    const device = await grantedDevice();
    const client = await connectAs(device.deviceId, device.token);
    const firstSession = closedSignal(client);
    await access.grantDevice(TENANT, device.deviceId, device.token);
    const marker = `regrant-${randomUUID()}`;
    await publish(client, device.topic, `${marker}:same-token`, { qos: 1 });
    await arrived(`${marker}:same-token`);
    expect(firstSession.closed).toBe(false);

    const newToken = token();
    await access.grantDevice(TENANT, device.deviceId, newToken);
    // Changing the password ends the sessions opened with the old token.
    await eventually(() => firstSession.closed, { what: 'old session closed' });
    expect(await refusalCode(device.deviceId, device.token)).toBe(5);
    const renewed = await connectAs(device.deviceId, newToken);
    await publish(renewed, device.topic, `${marker}:new-token`, { qos: 1 });
    await arrived(`${marker}:new-token`);

    const role = await adminCommand({ command: 'getRole', rolename: deviceRoleName(device.deviceId) });
    expect(role.data.role.acls).toHaveLength(3);
    const account = await adminCommand({ command: 'getClient', username: device.deviceId });
    expect(account.data.client.roles).toEqual([expect.objectContaining({ rolename: deviceRoleName(device.deviceId) })]);
  });

  it('re-granting repairs a tampered role and client, and re-granting into another tenant moves the permission', async () => {
    const device = await grantedDevice();
    const rolename = deviceRoleName(device.deviceId);
    const wide = await adminCommand({ command: 'createRole', rolename: `wide-${device.deviceId}` });
    expect(wide.error).toBeUndefined();
    await adminCommand({
      command: 'addRoleACL',
      rolename,
      acltype: 'publishClientSend',
      topic: 'tenants/#',
      allow: true,
      priority: 50,
    });
    await adminCommand({ command: 'removeClientRole', username: device.deviceId, rolename });
    await adminCommand({ command: 'addClientRole', username: device.deviceId, rolename: `wide-${device.deviceId}` });
    await adminCommand({ command: 'disableClient', username: device.deviceId });

    await access.grantDevice(OTHER_TENANT, device.deviceId, device.token);

    const role = await adminCommand({ command: 'getRole', rolename });
    expect(role.data.role.acls).toEqual(
      expect.arrayContaining([
        {
          acltype: 'publishClientSend',
          topic: telemetryTopic(OTHER_TENANT, device.deviceId),
          allow: true,
          priority: 10,
        },
        { acltype: 'publishClientSend', topic: '#', allow: false, priority: 0 },
        { acltype: 'subscribePattern', topic: '#', allow: false, priority: 0 },
      ]),
    );
    expect(role.data.role.acls).toHaveLength(3);
    const account = await adminCommand({ command: 'getClient', username: device.deviceId });
    expect(account.data.client.roles.map((r: { rolename: string }) => r.rolename)).toEqual([rolename]);
    expect(account.data.client.disabled ?? false).toBe(false);

    const client = await connectAs(device.deviceId, device.token);
    const marker = `moved-${randomUUID()}`;
    await publish(client, device.topic, `${marker}:old-tenant`, { qos: 1 });
    await publish(client, telemetryTopic(OTHER_TENANT, device.deviceId), `${marker}:new-tenant`, { qos: 1 });
    await arrived(`${marker}:new-tenant`);
    expect(deliveredPayloads(marker)).toEqual([`${marker}:new-tenant`]);
    await adminCommand({ command: 'deleteRole', rolename: `wide-${device.deviceId}` });
  });

  it('revoking a connected device disconnects it at once, it cannot reconnect, and revoking again is a no-op', async () => {
    const device = await grantedDevice();
    const client = await connectAs(device.deviceId, device.token);
    const session = closedSignal(client);
    await access.revokeDevice(device.deviceId);
    await eventually(() => session.closed, { timeoutMs: 2_000, what: 'revoked device disconnected' });
    expect(await refusalCode(device.deviceId, device.token)).toBe(5);
    const role = await adminCommand({ command: 'getRole', rolename: deviceRoleName(device.deviceId) });
    expect(role.error).toMatch(/not found/i);

    await expect(access.revokeDevice(device.deviceId)).resolves.toBeUndefined();
    await expect(access.revokeDevice(randomUUID())).resolves.toBeUndefined();
  });

  it('the ingest account cannot publish to a device topic and can subscribe only through its share group', async () => {
    const device = await grantedDevice();
    const deviceClient = await connectAs(device.deviceId, device.token);
    const marker = `ingest-pub-${randomUUID()}`;
    await publish(consumer, device.topic, `${marker}:from-ingest`, { qos: 1 });
    await publish(deviceClient, device.topic, `${marker}:from-device`, { qos: 1 });
    await arrived(`${marker}:from-device`);
    expect(deliveredPayloads(marker)).toEqual([`${marker}:from-device`]);

    const other = await connectAs(INGEST_USER, ingestPassword);
    for (const filter of ['tenants/#', '$share/other-group/tenants/#', '#', device.topic])
      expect({ filter, code: await subackCode(other, filter) }).toEqual({ filter, code: 128 });
    expect(await subackCode(other, SHARED_FILTER)).toBe(1);
  });

  it('ensureIngestAccount is idempotent, keeps live consumers connected when the password is unchanged, and replaces a changed one', async () => {
    const username = `ingest-${randomBytes(4).toString('hex')}`;
    const firstPassword = token();
    await access.ensureIngestAccount(username, firstPassword, GROUP);
    const live = await connectAs(username, firstPassword);
    const session = closedSignal(live);
    await access.ensureIngestAccount(username, firstPassword, GROUP);
    const role = await adminCommand({ command: 'getRole', rolename: ingestRoleName(username) });
    expect(role.data.role.acls).toHaveLength(4);
    // A round trip on the live connection after the re-ensure: it was not kicked.
    await orClosed(live, live.subscribeAsync(SHARED_FILTER, { qos: 1 }));
    expect(session.closed).toBe(false);

    const secondPassword = token();
    await access.ensureIngestAccount(username, secondPassword, GROUP);
    await eventually(() => session.closed, { what: 'consumer with the old password closed' });
    expect(await refusalCode(username, firstPassword)).toBe(5);
    await connectAs(username, secondPassword);
  });

  it('invalid tenant, device id, token, account or group is refused before any command is sent', async () => {
    const deviceId = randomUUID();
    const secret = token();
    const seen = responses.length;
    const refusals: [string, () => Promise<void>][] = [
      ['uppercase tenant', () => access.grantDevice('Acme', deviceId, secret)],
      ['tenant with a wildcard', () => access.grantDevice('acme/#', deviceId, secret)],
      ['tenant with a plus', () => access.grantDevice('ac+me', deviceId, secret)],
      ['one-letter tenant', () => access.grantDevice('a', deviceId, secret)],
      ['tenant too long', () => access.grantDevice(`a${'b'.repeat(40)}`, deviceId, secret)],
      ['device id not a uuid', () => access.grantDevice(TENANT, 'device-1', secret)],
      ['device id with a wildcard', () => access.grantDevice(TENANT, '#', secret)],
      ['upper-case uuid', () => access.grantDevice(TENANT, deviceId.toUpperCase(), secret)],
      ['empty device id', () => access.grantDevice(TENANT, '', secret)],
      ['short token', () => access.grantDevice(TENANT, deviceId, 'short')],
      ['token with a space', () => access.grantDevice(TENANT, deviceId, `${secret} x`)],
      ['token too long', () => access.grantDevice(TENANT, deviceId, 'x'.repeat(201))],
      ['revoke of a non-uuid', () => access.revokeDevice('../admin')],
      ['ingest group with a slash', () => access.ensureIngestAccount(INGEST_USER, ingestPassword, 'a/b')],
      ['ingest user with a wildcard', () => access.ensureIngestAccount('in+gest', ingestPassword, GROUP)],
      ['ingest user = admin', () => access.ensureIngestAccount(broker.adminUsername, ingestPassword, GROUP)],
      ['short ingest password', () => access.ensureIngestAccount(INGEST_USER, 'pw', GROUP)],
    ];
    for (const [what, call] of refusals) {
      const error = await call().then(
        () => new Error(`${what} was accepted`),
        (thrown: unknown) => thrown as Error & { code?: string },
      );
      expect({ what, code: (error as { code?: string }).code }).toEqual({
        what,
        code: BrokerAccessErrorCode.INVALID_INPUT,
      });
      expect(error.message).not.toContain(secret);
      expect(error.message).not.toContain(ingestPassword);
    }
    // Responses are published in command order to every admin subscriber: once the marker's answers
    // are in, any command sent by the refused calls would have been answered before them.
    await access.revokeDevice(deviceId);
    await eventually(() => responses.length >= seen + 2, { what: 'the marker revoke answered' });
    expect(responses.slice(seen).map((response) => response.command)).toEqual(['deleteClient', 'deleteRole']);

    // Validation comes before connecting: an instance that never reached a broker refuses the same way.
    const offline = new MosquittoDynamicSecurity({ url: 'mqtt://127.0.0.1:1', username: 'x', password: 'y' });
    await expect(offline.grantDevice(TENANT, 'nope', secret)).rejects.toMatchObject({
      code: BrokerAccessErrorCode.INVALID_INPUT,
    });
    await offline.close();
  });

  it('a command without an answer times out, grants survive a broker restart, and the admin connection recovers', async () => {
    const device = await grantedDevice();
    const impatient = await MosquittoDynamicSecurity.connect({
      url: broker.url,
      username: broker.adminUsername,
      password: broker.adminPassword,
      commandTimeoutMs: 500,
    });
    try {
      await broker.kill();
      const started = Date.now();
      await expect(impatient.grantDevice(TENANT, randomUUID(), token())).rejects.toMatchObject({
        code: BrokerAccessErrorCode.TIMEOUT,
      });
      expect(Date.now() - started).toBeLessThan(3_000);
      await broker.start();

      // Both admin connections reconnect (mqtt.js) and re-subscribe to the responses.
      const late = await eventually(
        async () => {
          const id = randomUUID();
          await impatient.grantDevice(TENANT, id, device.token);
          return id;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: 'a grant after the restart' },
      );
      await eventually(() => access.revokeDevice(randomUUID()).then(() => true), {
        timeoutMs: 15_000,
        intervalMs: 250,
        what: 'the main instance after the restart',
      });
      const survivor = await connectAs(device.deviceId, device.token);
      const fresh = await connectAs(late, device.token);
      const restartedConsumer = await connectConsumer();
      const marker = `restart-${randomUUID()}`;
      await publish(survivor, device.topic, `${marker}:survivor`, { qos: 1 });
      await publish(fresh, telemetryTopic(TENANT, late), `${marker}:fresh`, { qos: 1 });
      await arrived(`${marker}:fresh`);
      await arrived(`${marker}:survivor`);
      await restartedConsumer.endAsync();
    } finally {
      await impatient.close();
    }
    await expect(impatient.revokeDevice(randomUUID())).rejects.toMatchObject({
      code: BrokerAccessErrorCode.UNAVAILABLE,
    });
  });
});
