import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { telemetrySubject } from '#polystore/device-broker';
import { parseTenantSlug } from '#polystore/tenancy';
import { HTTP_INGEST_PREFIX, TelemetryBroker } from '../src/broker/telemetry-broker.js';
import { PrivateBroker } from '../../../test/support/device-broker.js';

/**
 * A tenant's ingest backlog, read from a real telemetry stream (a private NATS server in operator
 * mode, as the edge store runs it): the readings captured for the tenant over MQTT and HTTP and
 * not stored yet (no consumer pulls here), and the time of the oldest. Other tenants' messages,
 * a slug that is a prefix of another's included, are not counted.
 */
describe('edge store - a tenant ingest backlog from the telemetry stream (integration, real NATS)', () => {
  let server: PrivateBroker;
  let broker: TelemetryBroker;

  beforeAll(async () => {
    server = await PrivateBroker.create();
    broker = await TelemetryBroker.connect([`nats://127.0.0.1:${server.port}`], server.keys, 'backlog-test', {
      replicas: 1,
      maxBytes: 64 * 1024 * 1024,
      maxAgeHours: 1,
      maxMessageBytes: 65_536,
      consumer: 'edge-store',
      maxInFlight: 10,
      redeliverAfterMs: 30_000,
    });
  }, 30_000);

  afterAll(async () => {
    await broker?.close();
    await server?.close();
  });

  const publish = async (tenant: string, http = false) => {
    const subject = telemetrySubject(parseTenantSlug(tenant), randomUUID());
    await broker.js.publish(http ? `${HTTP_INGEST_PREFIX}${subject}` : subject, JSON.stringify([{ seq: 1 }]));
  };

  it('edge store - counts the tenant MQTT and HTTP readings not stored yet and dates the oldest; another tenant, a longer slug alike, is not counted', async () => {
    expect(await broker.tenantBacklog(parseTenantSlug('acme'))).toEqual({ messages: 0, oldestAt: null });

    const before = Date.now();
    await publish('acme');
    const after = Date.now();
    await publish('acme-two');
    await publish('acme', true);
    await publish('acme');
    await publish('globex', true);

    const acme = await broker.tenantBacklog(parseTenantSlug('acme'));
    expect(acme.messages).toBe(3);
    // The stream's own timestamp of the first message (its clock is this machine's).
    expect(acme.oldestAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(acme.oldestAt).toBeLessThanOrEqual(after + 1_000);
    expect((await broker.tenantBacklog(parseTenantSlug('acme-two'))).messages).toBe(1);
    expect((await broker.tenantBacklog(parseTenantSlug('globex'))).messages).toBe(1);
    expect(await broker.tenantBacklog(parseTenantSlug('initech'))).toEqual({ messages: 0, oldestAt: null });
  });

  it('edge store - only HTTP readings waiting: the oldest is found under the HTTP prefix', async () => {
    await publish('umbrella', true);
    const umbrella = await broker.tenantBacklog(parseTenantSlug('umbrella'));
    expect(umbrella.messages).toBe(1);
    expect(umbrella.oldestAt).not.toBeNull();
  });
});
