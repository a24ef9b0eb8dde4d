import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import {
  busAuthenticator,
  busInboxPrefix,
  Contracts,
  MessagingErrorCode,
  subjectFor,
  type BusService,
} from '#polystore/messaging';
import { PrivateBus } from '../support/bus.js';
import { copyOfRequest } from '../support/nats.js';
import { eventually } from '../support/eventually.js';
import { TestStack, type TestTenant } from '../support/stack.js';

/**
 * Every app on an authenticated bus (a user per service, `polystore bus config`): the whole flow
 * works with each service's own credentials and permissions, and everything else is refused by
 * the NATS server itself: no credentials, another service's subjects, revoked credentials.
 */
describe('authenticated bus - a user per service, least privilege (e2e, real processes)', () => {
  let bus: PrivateBus;
  let stack: TestStack;
  let tenant: TestTenant;
  const email = `bus.${randomBytes(4).toString('hex')}@example.com`;
  let customerId = '';
  const clients: NatsConnection[] = [];

  const as = async (service: BusService, seed = bus.seedOf(service)) => {
    // On the service's own inbox prefix, as its processes connect (connectNats).
    const nc = await connect({
      servers: bus.url,
      authenticator: busAuthenticator(seed),
      name: `test-as-${service}`,
      inboxPrefix: busInboxPrefix(service),
    });
    clients.push(nc);
    return nc;
  };
  const violations = () => readFileSync(join(bus.dir, 'nats.log'), 'utf8').match(/\w+ Violation.*/g) ?? [];

  beforeAll(async () => {
    bus = await PrivateBus.create();
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      parallelStart: true,
      bus,
    });
    tenant = await stack.createTenant('bus');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((nc) => nc.close().catch(() => undefined)));
    await stack?.close();
    await bus?.close();
  });

  const call = (method: string, path: string, body?: unknown) =>
    stack.request({ method, path, body, tenant: tenant.slug, apiKey: tenant.apiKey });

  it('bus - provisioning in three stores, customers, and a device registration saga run with per-service credentials', async () => {
    const created = await call('POST', '/v1/customers', { name: 'Bus Rider', email });
    expect(created.status).toBe(201);
    customerId = created.body.id as string;
    expect((await call('GET', `/v1/customers/${customerId}`)).body).toMatchObject({ email });
    const device = await call('POST', '/v1/devices', {
      name: `meter-${randomBytes(3).toString('hex')}`,
      model: 'EM-340',
    });
    expect(device.status).toBe(201);
    expect((await call('GET', `/v1/devices/${device.body.id as string}`)).status).toBe(200);
    const ready = await stack.internal({ path: '/health/ready' });
    expect(ready.status).toBe(200);
    // The server refused nothing the product did.
    expect(violations()).toEqual([]);
  });

  it('bus - a store killed (-9) and restarted, and the bus crashed and restarted: service resumes with the same credentials, and a gateway command copied before runs nothing when sent again', async () => {
    // The attack a replay needs: a copy (only the store's credentials may read its requests) and
    // publish rights (only callers have them). Neither the reply subject nor restarts help it.
    const spy = await as('secure-store');
    const subject = subjectFor(stack.prefix, Contracts.secure.customers.create.pattern);
    let createdId = '';
    const copy = await copyOfRequest(spy, subject, async () => {
      const created = await call('POST', '/v1/customers', { name: 'Twin', email: `twin.${email}` });
      expect(created.status).toBe(201);
      createdId = created.body.id as string;
    });
    await spy.close();

    // The store that ran it dies with its own memory of it; the bus crashes too.
    const oldPid = stack.app('secure-store').child.pid;
    await stack.app('secure-store').stop('SIGKILL');
    const store = await stack.startApp('secure-store');
    expect(store.child.pid).not.toBe(oldPid);
    expect((await call('GET', `/v1/customers/${customerId}`)).status).toBe(200);
    await bus.crashAndRestart();
    await eventually(async () => (await call('GET', `/v1/customers/${customerId}`)).status === 200, {
      timeoutMs: 20_000,
      what: 'a read after the bus restarted',
    });
    expect(violations()).toEqual([]);

    const cli = await as('cli');
    const toOwnInbox = await cli.request(subject, copy.data, { timeout: 2_000, headers: copy.headers });
    expect(toOwnInbox.json<{ err: { code: string } }>().err.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    const replays = () => store.lines.filter((line) => /refused a message on .*CONTEXT_REPLAYED/.test(line)).length;
    cli.publish(subject, copy.data, { reply: copy.reply!, headers: copy.headers });
    await eventually(() => replays() > 0, { what: 'the copy sent to the gateway inbox refused as a replay' });
    // Created once: the tenant has exactly the customers the gateway created (emails are sealed).
    const rows = await stack.tenantSql<{ id: string }>(tenant.slug, 'secure', 'SELECT id FROM customers');
    expect(rows.map((row) => row.id).sort()).toEqual([customerId, createdId].sort());
  });

  it('bus - a client without credentials is refused at connect', async () => {
    await expect(connect({ servers: bus.url, reconnect: false })).rejects.toThrow(/Authorization Violation/);
  });

  it("bus - the edge store's credentials can neither ask the secure store nor listen to its requests", async () => {
    const edge = await as('edge-store');
    const subject = subjectFor(stack.prefix, Contracts.secure.customers.search.pattern);
    const copies: string[] = [];
    const refusals: string[] = [];
    edge.subscribe(`${stack.prefix}.secure.>`, {
      callback: (error, msg) => {
        if (error) refusals.push(error.message);
        else copies.push(msg.subject);
      },
    });
    const headers = natsHeaders();
    headers.set('Ps-Tenant', tenant.slug);
    headers.set('Ps-Deadline', String(Date.now() + 2_000));
    const body = JSON.stringify({ pattern: Contracts.secure.customers.search.pattern, data: { email }, id: 'x' });
    await expect(edge.request(subject, body, { timeout: 1_500, headers })).rejects.toThrow();
    // The gateway's own read goes through while the edge store's subscription sees none of it.
    expect((await call('GET', `/v1/customers/${customerId}`)).status).toBe(200);
    await eventually(() => refusals.some((message) => /permissions violation/i.test(message)), {
      what: 'the refused subscription',
    });
    await eventually(() => violations().some((line) => line.includes('Publish Violation') && line.includes(subject)), {
      what: `the refused publish to ${subject} in the bus log (${violations().join('; ')})`,
    });
    expect(copies).toEqual([]);
  });

  it.each(['secure-store', 'reliable-store', 'cli'] as const)(
    "bus - %s's credentials cannot read the replies the gateway receives (every inbox, or the gateway's)",
    async (service) => {
      // The reliable store may listen on an inbox (its JetStream acknowledgements): its own only.
      const client = await as(service);
      const replies: string[] = [];
      const refusals: string[] = [];
      for (const inbox of ['_INBOX.>', `${busInboxPrefix('gateway')}.>`])
        client.subscribe(inbox, {
          callback: (error, msg) => {
            if (error) refusals.push(error.message);
            else replies.push(msg.string());
          },
        });
      const read = await call('GET', `/v1/customers/${customerId}`);
      expect(read.status).toBe(200);
      expect(JSON.stringify(read.body)).toContain(email);
      for (const inbox of ['_INBOX.>', '_INBOX.gateway.>'])
        await eventually(
          () =>
            refusals.some((message) =>
              message.toLowerCase().includes(`permissions violation for subscription to "${inbox.toLowerCase()}"`),
            ),
          {
            what: `the refused subscription to ${inbox} (${refusals.join('; ')})`,
          },
        );
      expect(replies.join('')).not.toContain(email);
    },
  );

  it('bus - an authenticated caller with an unsigned context still gets nothing (CONTEXT_UNSIGNED)', async () => {
    const cli = await as('cli');
    const headers = natsHeaders();
    headers.set('Ps-Tenant', tenant.slug);
    headers.set('Ps-Deadline', String(Date.now() + 2_000));
    const reply = await cli.request(
      subjectFor(stack.prefix, Contracts.secure.customers.search.pattern),
      JSON.stringify({ pattern: Contracts.secure.customers.search.pattern, data: { email }, id: 'y' }),
      { timeout: 2_000, headers },
    );
    expect(reply.json<{ err: { code: string } }>().err.code).toBe(MessagingErrorCode.CONTEXT_UNSIGNED);
    expect(reply.string()).not.toContain(email);
  });

  it('bus - revoked credentials: the old seed is refused after the reload, the new one works', async () => {
    const oldSeed = bus.seedOf('cli');
    const before = await as('cli', oldSeed);
    const events: string[] = [];
    void (async () => {
      for await (const status of before.status()) events.push(status.type);
    })();
    await bus.revoke('cli');
    expect(bus.seedOf('cli')).not.toBe(oldSeed);
    // The connection opened with the old seed is dropped by the server...
    await eventually(() => events.includes('disconnect'), { what: 'the old connection dropped' });
    await before.close().catch(() => undefined);
    // ...and the old seed no longer connects.
    await expect(
      connect({ servers: bus.url, authenticator: busAuthenticator(oldSeed), reconnect: false }),
    ).rejects.toThrow(/Authorization Violation/);
    const fresh = await as('cli');
    await expect(fresh.flush()).resolves.toBeUndefined();
    // The services keep their own credentials and keep serving.
    expect((await call('GET', `/v1/customers/${customerId}`)).status).toBe(200);
  });
});
