import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { ContextSigner, Contracts, MessagingErrorCode, subjectFor, type MessageClient } from '#polystore/messaging';
import { runAsTenant, parseTenantSlug } from '#polystore/tenancy';
import { eventually } from '../support/eventually.js';
import { copiedHeaders, copyOfRequest, stackClient } from '../support/nats.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';

interface Reply {
  readonly err?: { code: string; message: string };
  readonly response?: unknown;
}

/**
 * The attack of the service-identity issue, tried on a real stack: a process on the bus asks the
 * secure store for a tenant's customers by naming the tenant in a header. Every variant must get
 * a coded refusal and no personal data; the gateway's own, signed, requests keep working.
 */
describe('service identity - signed tenant context on the bus (e2e, real processes)', () => {
  let stack: TestStack;
  let tenant: TestTenant;
  let attacker: NatsConnection;
  let signed: { nc: NatsConnection; client: MessageClient };
  const name = `Ada ${randomBytes(4).toString('hex')}`;
  const email = `ada.${randomBytes(4).toString('hex')}@example.com`;
  let customerId = '';

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['secure-store', 'gateway'] });
    tenant = await stack.createTenant();
    const created = await stack.request({
      method: 'POST',
      path: '/v1/customers',
      body: { name, email },
      tenant: tenant.slug,
      apiKey: tenant.apiKey,
    });
    expect(created.status).toBe(201);
    customerId = created.body.id as string;
    attacker = await connect({ servers: TestServices.natsUrl, name: 'attacker' });
    signed = await stackClient(stack.prefix);
  });

  afterAll(async () => {
    await attacker?.close();
    await signed?.nc.close();
    await stack?.close();
  });

  const searchSubject = () => subjectFor(stack.prefix, Contracts.secure.customers.search.pattern);

  function searchMessage(headers: MsgHdrs): Buffer {
    headers.set('Ps-Tenant', tenant.slug);
    headers.set('Ps-Correlation-Id', randomBytes(8).toString('hex'));
    headers.set('Ps-Deadline', String(Date.now() + 3_000));
    return Buffer.from(
      JSON.stringify({
        pattern: Contracts.secure.customers.search.pattern,
        data: { email },
        id: randomBytes(6).toString('hex'),
      }),
    );
  }

  async function send(subject: string, body: Uint8Array, headers: MsgHdrs): Promise<{ reply: Reply; text: string }> {
    const answer = await attacker.request(subject, body, { timeout: 3_000, headers });
    return { reply: answer.json<Reply>(), text: answer.string() };
  }

  /** The first message on `inbox` after `act` (what the gateway would receive there). */
  async function answerTo(inbox: string, act: () => void): Promise<{ reply: Reply; text: string }> {
    const watch = attacker.subscribe(inbox, { max: 1, timeout: 3_000 });
    await attacker.flush();
    act();
    for await (const answer of watch) return { reply: answer.json<Reply>(), text: answer.string() };
    throw new Error(`nothing came to ${inbox}`);
  }

  it('service identity - a request naming the tenant in a header, unsigned, gets CONTEXT_UNSIGNED and no PII', async () => {
    const headers = natsHeaders();
    const { reply, text } = await send(searchSubject(), searchMessage(headers), headers);
    expect(reply.err?.code).toBe(MessagingErrorCode.CONTEXT_UNSIGNED);
    expect(reply.response).toBeUndefined();
    expect(text).not.toContain(email);
    expect(text).not.toContain(name);
  });

  it('service identity - a request signed with a key of its own gets CONTEXT_INVALID and no PII', async () => {
    const headers = natsHeaders();
    const body = searchMessage(headers);
    ContextSigner.derived(randomBytes(32)).sign(searchSubject(), 'secure-store', headers, body);
    const { reply, text } = await send(searchSubject(), body, headers);
    expect(reply.err?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    expect(text).not.toContain(email);
  });

  it('service identity - a gateway request copied off the bus is refused: as-is (replayed), for another tenant or another query (invalid)', async () => {
    // What a process that can subscribe on the bus sees of the gateway's traffic (the bus's own
    // authentication is what stops the subscription itself).
    const getSubject = subjectFor(stack.prefix, Contracts.secure.customers.get.pattern);
    const copy = await copyOfRequest(attacker, getSubject, async () => {
      const read = await stack.request({
        path: `/v1/customers/${customerId}`,
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
      });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ name, email });
    });
    const replayHeaders = (): MsgHdrs => copiedHeaders(copy);

    // As-is to the attacker's own inbox: the signature names the gateway's inbox prefix.
    const asIs = await send(getSubject, copy.data, replayHeaders());
    expect(asIs.reply.err?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    expect(asIs.reply.err?.message).toMatch(/reply subject/);
    expect(asIs.text).not.toContain(email);
    // As-is to the gateway's inbox, where only the gateway may listen on an authenticated bus
    // (this stack's bus is open, so the test can watch): refused as a replay all the same.
    const toGateway = await answerTo(copy.reply!, () =>
      attacker.publish(getSubject, copy.data, { reply: copy.reply!, headers: replayHeaders() }),
    );
    expect(toGateway.reply.err?.code).toBe(MessagingErrorCode.CONTEXT_REPLAYED);
    expect(toGateway.text).not.toContain(email);

    const other = replayHeaders();
    other.set('Ps-Tenant', 'someone-else');
    const otherTenant = await send(getSubject, copy.data, other);
    expect(otherTenant.reply.err?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);

    const search = await send(searchSubject(), copy.data, replayHeaders());
    expect(search.reply.err?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    expect(search.text).not.toContain(email);
  });

  it('service identity - a client holding the signing key is served (the refusals above are not refusing everything)', async () => {
    const found = await runAsTenant(parseTenantSlug(tenant.slug), () =>
      signed.client.request(Contracts.secure.customers.search, { email }),
    );
    expect(found.items.map((c) => c.id)).toEqual([customerId]);
  });

  it('service identity - the store logs each refusal by code, without the personal data of the message', async () => {
    const store = stack.app('secure-store');
    await eventually(() => /refused a message on .*CONTEXT_UNSIGNED/.test(store.lines.join('\n')), {
      what: 'a logged refusal',
    });
    expect(store.lines.join('\n')).not.toContain(email);
  });

  it('service identity - a gateway command copied off the bus is refused by another replica, even after the first was killed (-9): the customer exists once', async () => {
    const createSubject = subjectFor(stack.prefix, Contracts.secure.customers.create.pattern);
    const twinEmail = `twin.${randomBytes(4).toString('hex')}@example.com`;
    let createdId = '';
    const copy = await copyOfRequest(attacker, createSubject, async () => {
      const created = await stack.request({
        method: 'POST',
        path: '/v1/customers',
        body: { name: 'Twin', email: twinEmail },
        tenant: tenant.slug,
        apiKey: tenant.apiKey,
      });
      expect(created.status).toBe(201);
      createdId = created.body.id as string;
    });
    const headers = copiedHeaders(copy);

    // The replica that ran it dies with its memory; another process, which never saw it, gets the copy.
    const first = stack.app('secure-store');
    await first.stop('SIGKILL');
    const second = await stack.startReplica('secure-store', 'second');
    const replayed = await answerTo(copy.reply!, () =>
      attacker.publish(createSubject, copy.data, { reply: copy.reply!, headers }),
    );
    expect(replayed.reply.err?.code).toBe(MessagingErrorCode.CONTEXT_REPLAYED);
    await eventually(() => /refused a message on .*CONTEXT_REPLAYED/.test(second.lines.join('\n')), {
      what: "the second replica's refusal",
    });
    const found = await runAsTenant(parseTenantSlug(tenant.slug), () =>
      signed.client.request(Contracts.secure.customers.search, { email: twinEmail }),
    );
    expect(found.items.map((customer) => customer.id)).toEqual([createdId]);
  });
});
