import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { type CodedError, ErrorKind } from '#polystore/platform';
import { connectNats, MessageClient, MessagingErrorCode, subjectFor } from '#polystore/messaging';
import { newRequestContext, parseTenantSlug, RequestContextStore, runAsTenant } from '#polystore/tenancy';
import { uniqueToken } from '../../../test/support/ids.js';
import { TestServices } from '../../../test/support/services.js';
import { calls, Probe, startProbeServer } from './probe-service.js';

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
    client = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 2_000 });
    servers = [await startProbeServer(url, prefix, 'one'), await startProbeServer(url, prefix, 'two')];
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

  it('messaging - a message whose deadline already passed never reaches its handler', async () => {
    const before = calls.slow;
    const hdrs = natsHeaders();
    hdrs.set('Ps-Deadline', String(Date.now() - 1));
    const reply = await nc.request(
      subjectFor(prefix, Probe.slow.pattern),
      JSON.stringify({ pattern: Probe.slow.pattern, data: { ms: 1 }, id: 'x1' }),
      {
        timeout: 1_000,
        headers: hdrs,
      },
    );
    expect(reply.json<{ err: { code: string } }>().err.code).toBe('DEADLINE_EXCEEDED');
    expect(calls.slow).toBe(before);
  });

  it('messaging - a message with an invalid tenant header is refused before its handler', async () => {
    const hdrs = natsHeaders();
    hdrs.set('Ps-Tenant', 'NOT A SLUG');
    const reply = await nc.request(
      subjectFor(prefix, Probe.whoami.pattern),
      JSON.stringify({ pattern: Probe.whoami.pattern, data: { n: 1 }, id: 'x2' }),
      {
        timeout: 1_000,
        headers: hdrs,
      },
    );
    expect(reply.json<{ err: { code: string } }>().err.code).toBe('INVALID_TENANT');
  });

  it('messaging - closing a server lets its in-flight handler answer first', async () => {
    const extra = await startProbeServer(url, prefix, 'three');
    // Park the other replicas so the slow request lands on the one being closed.
    await Promise.all(servers.map((s) => s.close()));
    const pending = client.request(Probe.slow, { ms: 300 }, { timeoutMs: 3_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await extra.close();
    await expect(pending).resolves.toEqual({ slept: 300 });
    servers = [await startProbeServer(url, prefix, 'one'), await startProbeServer(url, prefix, 'two')];
  });
});
