import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { type CodedError, ErrorKind } from '#polystore/platform';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  connectNats,
  ContextSigner,
  MessageClient,
  MessagingErrorCode,
  replayStreamName,
  subjectFor,
} from '#polystore/messaging';
import { newRequestContext, parseTenantSlug, RequestContextStore, runAsTenant } from '#polystore/tenancy';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { stackClient } from '../../../test/support/nats.js';
import { TestServices } from '../../../test/support/services.js';
import { calls, Probe, service, startProbeServer } from './probe-service.js';
import { testContextSigner, testContextVerifier } from '../../../test/support/context-keys.js';

/**
 * The messaging contract, held by both transports: a real NATS server, and the in-process NATS
 * the quickstart runs every app on (`inproc://`). Transport-specific behaviour of the latter is in
 * in-process-nats.spec.ts.
 */
const TRANSPORTS = [
  ['a real NATS server', TestServices.natsUrl],
  ['the in-process NATS', `inproc://messaging-${uniqueToken(6)}`],
] as const;

describe.each(TRANSPORTS)('messaging - typed request/reply on %s', (_transport, url) => {
  const prefix = `mt${uniqueToken(6)}`;
  let nc: NatsConnection;
  let client: MessageClient;
  let servers: INestMicroservice[];

  beforeAll(async () => {
    nc = await connectNats({ url, name: 'messaging-test' });
    client = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 2_000, signer: testContextSigner });
    // Both replicas live in this process: one verifier, as in a store process (replays are per process).
    const verifier = testContextVerifier(service);
    servers = [
      await startProbeServer(url, prefix, 'one', verifier),
      await startProbeServer(url, prefix, 'two', verifier),
    ];
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await nc.drain();
  });

  it('messaging - tenant, correlation id, actor and deadline are restored before the handler runs', async () => {
    const context = newRequestContext({
      tenant: parseTenantSlug('acme'),
      actor: 'key-42',
      deadline: Date.now() + 3_000,
    });
    const answer = await RequestContextStore.run(context, () => client.request(Probe.whoami, { n: 1 }));
    expect(answer).toMatchObject({ tenant: 'acme', correlationId: context.correlationId, actor: 'key-42' });
    expect(answer.deadline).toBeLessThanOrEqual(context.deadline);
    expect(answer.deadline).toBeGreaterThan(Date.now());
  });

  it('messaging - a tenant-scoped message cannot be sent without a tenant', async () => {
    await expect(client.request(Probe.whoami, { n: 1 })).rejects.toMatchObject({ code: 'NO_TENANT_CONTEXT' });
  });

  it('messaging - replicas in one queue group share the load', async () => {
    const answers = await runAsTenant(parseTenantSlug('acme'), () =>
      Promise.all(Array.from({ length: 60 }, (_, n) => client.request(Probe.whoami, { n }))),
    );
    const instances = new Set(answers.map((a) => a.instance));
    expect(instances).toEqual(new Set(['one', 'two']));
  });

  it('messaging - a coded error crosses NATS with its code, kind and details', async () => {
    await expect(client.request(Probe.fail, { coded: true })).rejects.toMatchObject({
      code: 'THING_CONFLICT',
      kind: ErrorKind.CONFLICT,
      message: 'the thing conflicts',
      details: { thing: 1 },
    });
  });

  it('messaging - an unexpected error leaves as a generic INTERNAL, without its message', async () => {
    const error = (await client.request(Probe.fail, { coded: false }).catch((e: unknown) => e)) as CodedError;
    expect(error).toMatchObject({ code: 'INTERNAL', kind: ErrorKind.INTERNAL });
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('SELECT');
  });

  it('messaging - a payload that breaks the contract is refused naming the field', async () => {
    const error = await runAsTenant(parseTenantSlug('acme'), () =>
      client.request(Probe.whoami, { n: 'one' } as unknown as { n: number }).catch((e: unknown) => e),
    );
    expect(error).toMatchObject({ code: MessagingErrorCode.INVALID_MESSAGE, kind: ErrorKind.INVALID_ARGUMENT });
    expect((error as Error).message).toContain('n:');
  });

  it('messaging - no instance listening fails at once with SERVICE_UNAVAILABLE', async () => {
    const started = Date.now();
    await expect(client.request(Probe.nobody, {})).rejects.toMatchObject({
      code: MessagingErrorCode.SERVICE_UNAVAILABLE,
      details: { service: 'ghost-store' },
    });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('messaging - the wait never exceeds the deadline (DEADLINE_EXCEEDED, outcome unknown)', async () => {
    const started = Date.now();
    await expect(
      RequestContextStore.run(newRequestContext({ deadline: Date.now() + 150 }), () =>
        client.request(Probe.slow, { ms: 1_000 }),
      ),
    ).rejects.toMatchObject({ code: MessagingErrorCode.DEADLINE_EXCEEDED });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(600);
  });

  /** A request sent by hand, signed by `signer` (the test key by default; null: unsigned) after `edit` set its headers. */
  async function rawRequest(
    pattern: string,
    data: unknown,
    edit: (headers: MsgHdrs) => void = () => undefined,
    signer: ContextSigner | null = testContextSigner,
  ): Promise<{ err?: { code: string }; response?: unknown }> {
    const headers = natsHeaders();
    headers.set('Ps-Correlation-Id', uniqueToken(12));
    headers.set('Ps-Deadline', String(Date.now() + 2_000));
    edit(headers);
    const subject = subjectFor(prefix, pattern);
    const body = Buffer.from(JSON.stringify({ pattern, data, id: uniqueToken(8) }));
    signer?.sign(subject, service, headers, body);
    const reply = await nc.request(subject, body, { timeout: 1_000, headers });
    return reply.json();
  }

  it('messaging - a message whose deadline already passed never reaches its handler', async () => {
    const before = calls.slow;
    const answer = await rawRequest(Probe.slow.pattern, { ms: 1 }, (h) => h.set('Ps-Deadline', String(Date.now() - 1)));
    expect(answer.err?.code).toBe('DEADLINE_EXCEEDED');
    expect(calls.slow).toBe(before);
  });

  it('messaging - a message with an invalid tenant header is refused before its handler', async () => {
    const answer = await rawRequest(Probe.whoami.pattern, { n: 1 }, (h) => h.set('Ps-Tenant', 'NOT A SLUG'));
    expect(answer.err?.code).toBe('INVALID_TENANT');
  });

  it('messaging - a signed request by hand is answered (the check below is not refusing everything)', async () => {
    const answer = await rawRequest(Probe.whoami.pattern, { n: 1 }, (h) => h.set('Ps-Tenant', 'acme'));
    expect(answer.response).toMatchObject({ tenant: 'acme' });
  });

  it('messaging - a request naming a tenant without a signed context is refused unrun (CONTEXT_UNSIGNED)', async () => {
    const before = calls.slow;
    const answer = await rawRequest(Probe.slow.pattern, { ms: 1 }, (h) => h.set('Ps-Tenant', 'acme'), null);
    expect(answer.err?.code).toBe(MessagingErrorCode.CONTEXT_UNSIGNED);
    expect(answer.response).toBeUndefined();
    expect(calls.slow).toBe(before);
  });

  it('messaging - a context signed by another key is refused (CONTEXT_INVALID)', async () => {
    const stranger = ContextSigner.derived(randomBytes(32));
    const before = calls.slow;
    const answer = await rawRequest(Probe.slow.pattern, { ms: 1 }, (h) => h.set('Ps-Tenant', 'acme'), stranger);
    expect(answer.err?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    expect(calls.slow).toBe(before);
  });

  it('messaging - a signed request whose tenant, payload or subject is changed is refused (CONTEXT_INVALID)', async () => {
    const subject = subjectFor(prefix, Probe.whoami.pattern);
    const headers = natsHeaders();
    headers.set('Ps-Correlation-Id', uniqueToken(12));
    headers.set('Ps-Deadline', String(Date.now() + 2_000));
    headers.set('Ps-Tenant', 'acme');
    const body = Buffer.from(JSON.stringify({ pattern: Probe.whoami.pattern, data: { n: 1 }, id: uniqueToken(8) }));
    testContextSigner.sign(subject, service, headers, body);

    const otherTenant = natsHeaders();
    for (const [name, values] of headers) otherTenant.set(name, values[0]!);
    otherTenant.set('Ps-Tenant', 'globex');
    const forgedTenant = await nc.request(subject, body, { timeout: 1_000, headers: otherTenant });
    expect(forgedTenant.json<{ err: { code: string } }>().err.code).toBe(MessagingErrorCode.CONTEXT_INVALID);

    const otherBody = Buffer.from(body.toString('utf8').replace('"n":1', '"n":2'));
    const forgedBody = await nc.request(subject, otherBody, { timeout: 1_000, headers });
    expect(forgedBody.json<{ err: { code: string } }>().err.code).toBe(MessagingErrorCode.CONTEXT_INVALID);

    const forgedSubject = await nc.request(subjectFor(prefix, Probe.fail.pattern), body, { timeout: 1_000, headers });
    expect(forgedSubject.json<{ err: { code: string } }>().err.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
  });

  it('messaging - a signed request sent twice runs once (CONTEXT_REPLAYED)', async () => {
    const subject = subjectFor(prefix, Probe.slow.pattern);
    const headers = natsHeaders();
    headers.set('Ps-Correlation-Id', uniqueToken(12));
    headers.set('Ps-Deadline', String(Date.now() + 3_000));
    const body = Buffer.from(JSON.stringify({ pattern: Probe.slow.pattern, data: { ms: 1 }, id: uniqueToken(8) }));
    testContextSigner.sign(subject, service, headers, body);
    const before = calls.slow;
    const first = await nc.request(subject, body, { timeout: 1_000, headers });
    expect(first.json<{ response: unknown }>().response).toEqual({ slept: 1 });
    const again = await nc.request(subject, body, { timeout: 1_000, headers });
    expect(again.json<{ err: { code: string } }>().err.code).toBe(MessagingErrorCode.CONTEXT_REPLAYED);
    expect(calls.slow).toBe(before + 1);
  });

  /** A request signed by the test key, to send (and send again) by hand; its answer may go under `replyPrefix`. */
  function signedMessage(pattern: string, data: unknown, replyPrefix?: string) {
    const subject = subjectFor(prefix, pattern);
    const headers = natsHeaders();
    headers.set('Ps-Correlation-Id', uniqueToken(12));
    headers.set('Ps-Deadline', String(Date.now() + 4_000));
    headers.set('Ps-Tenant', 'acme');
    const body = Buffer.from(JSON.stringify({ pattern, data, id: uniqueToken(8) }));
    testContextSigner.sign(subject, service, headers, body, Date.now(), replyPrefix);
    const send = async () =>
      (await nc.request(subject, body, { timeout: 2_000, headers })).json<{
        err?: { code: string; message: string };
        response?: Record<string, unknown>;
      }>();
    return { send };
  }

  async function replaceReplicas(start: () => Promise<INestMicroservice[]>): Promise<void> {
    await Promise.all(servers.map((s) => s.close()));
    servers = await start();
  }

  it('messaging - a copy of a request sent with another reply subject is refused unrun: nobody else reads its answer', async () => {
    // Signed for the gateway's inbox; sent from this connection's, as a stolen copy would be.
    const copy = signedMessage(Probe.slow.pattern, { ms: 1 }, '_INBOX.gateway');
    const before = calls.slow;
    const answer = await copy.send();
    expect(answer.err?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    expect(answer.err?.message).toMatch(/reply subject/);
    expect(answer.response).toBeUndefined();
    expect(calls.slow).toBe(before);
  });

  it('messaging - a copy of a command is refused by another replica, even one started after the first stopped; a copy of a read runs again', async () => {
    // A verifier each: replicas in separate processes share nothing but the replay memory.
    await replaceReplicas(async () => [await startProbeServer(url, prefix, 'first', testContextVerifier(service))]);
    const command = signedMessage(Probe.slow.pattern, { ms: 1 });
    const read = signedMessage(Probe.whoami.pattern, { n: 1 });
    const before = { ...calls };
    expect((await command.send()).response).toEqual({ slept: 1 });
    expect((await read.send()).response).toMatchObject({ tenant: 'acme', instance: 'first' });
    await replaceReplicas(async () => [await startProbeServer(url, prefix, 'second', testContextVerifier(service))]);
    const copy = await command.send();
    expect(copy.err?.code).toBe(MessagingErrorCode.CONTEXT_REPLAYED);
    expect(calls.slow).toBe(before.slow + 1);
    // Each replica remembers the reads it ran: a read's copy runs on another, its answer bound to the signer's inbox.
    expect((await read.send()).response).toMatchObject({ instance: 'second' });
    expect(calls.whoami).toBe(before.whoami + 2);
  });

  it('messaging - one command sent 20 times at once to two replicas runs once', async () => {
    await replaceReplicas(async () => [
      await startProbeServer(url, prefix, 'one', testContextVerifier(service)),
      await startProbeServer(url, prefix, 'two', testContextVerifier(service)),
    ]);
    const command = signedMessage(Probe.slow.pattern, { ms: 20 });
    const before = calls.slow;
    const answers = await Promise.all(Array.from({ length: 20 }, () => command.send()));
    expect(answers.filter((answer) => answer.response !== undefined)).toHaveLength(1);
    expect(answers.filter((answer) => answer.err?.code === MessagingErrorCode.CONTEXT_REPLAYED)).toHaveLength(19);
    expect(calls.slow).toBe(before + 1);
  });

  it('messaging - a context signed in the future or for too long is refused (CONTEXT_EXPIRED)', async () => {
    const subject = subjectFor(prefix, Probe.slow.pattern);
    const send = async (issuedAt: number, deadline: number) => {
      const headers = natsHeaders();
      headers.set('Ps-Correlation-Id', uniqueToken(12));
      headers.set('Ps-Deadline', String(deadline));
      const body = Buffer.from(JSON.stringify({ pattern: Probe.slow.pattern, data: { ms: 1 }, id: uniqueToken(8) }));
      testContextSigner.sign(subject, service, headers, body, issuedAt);
      return (await nc.request(subject, body, { timeout: 1_000, headers })).json<{ err?: { code: string } }>();
    };
    const now = Date.now();
    expect((await send(now + 120_000, now + 125_000)).err?.code).toBe(MessagingErrorCode.CONTEXT_EXPIRED);
    expect((await send(now, now + 11 * 60_000)).err?.code).toBe(MessagingErrorCode.CONTEXT_EXPIRED);
  });

  it('messaging - closing a server lets its in-flight handler answer first', async () => {
    const extra = await startProbeServer(url, prefix, 'three');
    // Park the other replicas so the slow request lands on the one being closed.
    await Promise.all(servers.map((s) => s.close()));
    const pending = client.request(Probe.slow, { ms: 300 }, { timeoutMs: 3_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await extra.close();
    await expect(pending).resolves.toEqual({ slept: 300 });
    // Both replicas live in this process: one verifier, as in a store process (replays are per process).
    const verifier = testContextVerifier(service);
    servers = [
      await startProbeServer(url, prefix, 'one', verifier),
      await startProbeServer(url, prefix, 'two', verifier),
    ];
  });
});

describe('messaging - the replay memory of a store on a real NATS server (JetStream)', () => {
  const prefix = `rm${uniqueToken(6)}`;
  let nc: NatsConnection;
  let client: MessageClient;
  let server: INestMicroservice;

  beforeAll(async () => {
    ({ nc, client } = await stackClient(prefix, 2_000));
    server = await startProbeServer(TestServices.natsUrl, prefix, 'solo');
    // Its subscriptions reach the NATS server shortly after it started listening.
    const ready = () => runAsTenant(parseTenantSlug('acme'), () => client.request(Probe.whoami, { n: 0 }));
    await eventually(
      () =>
        ready().then(
          () => true,
          () => false,
        ),
      { what: 'the probe answering' },
    );
  });

  afterAll(async () => {
    await server.close();
    await nc.drain();
  });

  it('messaging - while the replay memory is gone a command is refused unrun (SERVICE_UNAVAILABLE) and reads are served; the next command makes it again and runs', async () => {
    await expect(client.request(Probe.slow, { ms: 1 })).resolves.toEqual({ slept: 1 });
    const jsm = await jetstreamManager(nc);
    await expect(jsm.streams.info(replayStreamName(service))).resolves.toMatchObject({
      config: { duplicate_window: 630_000_000_000, max_age: 630_000_000_000 },
    });
    await jsm.streams.delete(replayStreamName(service));
    const before = calls.slow;
    await expect(client.request(Probe.slow, { ms: 1 })).rejects.toMatchObject({
      code: MessagingErrorCode.SERVICE_UNAVAILABLE,
    });
    expect(calls.slow).toBe(before);
    const read = await runAsTenant(parseTenantSlug('acme'), () => client.request(Probe.whoami, { n: 1 }));
    expect(read).toMatchObject({ instance: 'solo' });
    await expect(client.request(Probe.slow, { ms: 1 })).resolves.toEqual({ slept: 1 });
    expect(calls.slow).toBe(before + 1);
    await expect(jsm.streams.info(replayStreamName(service))).resolves.toMatchObject({ state: { messages: 1 } });
  });
});
