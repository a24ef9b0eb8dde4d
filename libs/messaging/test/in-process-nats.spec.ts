import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { errors, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  connectNats,
  defineEvent,
  InProcessNats,
  MessageClient,
  MessagingErrorCode,
  openEventStream,
  subjectFor,
} from '#polystore/messaging';
import { parseTenantSlug, runAsTenant } from '#polystore/tenancy';
import { z } from 'zod';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { Probe, startProbeServer } from './probe-service.js';
import { testContextSigner } from '../../../test/support/context-keys.js';

const Pinged = defineEvent({ subject: 'probe.pinged', payload: z.object({ n: z.number() }) });

const inprocUrl = (): string => `inproc://ps-${uniqueToken(8)}`;
const text = (msg: Msg): string => msg.string();

/** What only the in-process transport has to prove; the contract both transports hold is messaging.int.spec.ts. */
describe('in-process NATS - MessageClient and PolystoreNatsServer in one process, no NATS server', () => {
  const url = inprocUrl();
  const prefix = `ip${uniqueToken(6)}`;
  let nc: NatsConnection;
  let client: MessageClient;
  let servers: INestMicroservice[];

  beforeAll(async () => {
    nc = await connectNats({ url, name: 'in-process-test' });
    client = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 2_000, signer: testContextSigner });
    servers = [await startProbeServer(url, prefix, 'one'), await startProbeServer(url, prefix, 'two')];
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    if (!nc.isClosed()) await nc.drain();
  });

  it('in-process - connectNats gives an InProcessNats for inproc:// that reports itself healthy', async () => {
    expect(nc).toBeInstanceOf(InProcessNats);
    expect(nc.getServer()).toBe('inproc');
    expect(nc.isClosed()).toBe(false);
    await expect(nc.flush()).resolves.toBeUndefined();
  });

  it('in-process - no responders is the nats.js RequestError, a timeout the nats.js TimeoutError', async () => {
    const noResponders = await nc.request(`${prefix}.nobody.here`, 'x', { timeout: 1_000 }).catch((e: unknown) => e);
    expect(noResponders).toBeInstanceOf(errors.RequestError);
    expect((noResponders as InstanceType<typeof errors.RequestError>).isNoResponders()).toBe(true);

    const mute = nc.subscribe(`${prefix}.mute`, { callback: () => undefined });
    await expect(nc.request(`${prefix}.mute`, 'x', { timeout: 50 })).rejects.toBeInstanceOf(errors.TimeoutError);
    mute.unsubscribe();
  });

  it('in-process - two servers in one queue group split 100 requests while a plain subscriber sees all', async () => {
    const seen: string[] = [];
    const watcher = nc.subscribe(subjectFor(prefix, Probe.whoami.pattern), {
      callback: (_e, m) => void seen.push(m.subject),
    });
    const answers = await runAsTenant(parseTenantSlug('acme'), () =>
      Promise.all(Array.from({ length: 100 }, (_, n) => client.request(Probe.whoami, { n }))),
    );
    await nc.flush();
    watcher.unsubscribe();

    const perInstance = new Map<string, number>();
    for (const { instance } of answers) perInstance.set(instance, (perInstance.get(instance) ?? 0) + 1);
    expect(perInstance.get('one')).toBeGreaterThan(0);
    expect(perInstance.get('two')).toBeGreaterThan(0);
    expect((perInstance.get('one') ?? 0) + (perInstance.get('two') ?? 0)).toBe(100);
    // Round robin: one member per message, in turn.
    expect(perInstance.get('one')).toBe(50);
    expect(seen).toHaveLength(100);
  });

  it('in-process - two different inproc names are isolated', async () => {
    const other = await connectNats({ url: inprocUrl(), name: 'elsewhere' });
    try {
      const elsewhere = new MessageClient(other, {
        subjectPrefix: prefix,
        defaultTimeoutMs: 1_000,
        signer: testContextSigner,
      });
      await expect(
        runAsTenant(parseTenantSlug('acme'), () => elsewhere.request(Probe.whoami, { n: 1 })),
      ).rejects.toMatchObject({ code: MessagingErrorCode.SERVICE_UNAVAILABLE });

      const here: string[] = [];
      const there: string[] = [];
      nc.subscribe(`${prefix}.iso`, { max: 1, callback: (_e, m) => void here.push(text(m)) });
      other.subscribe(`${prefix}.iso`, { callback: (_e, m) => void there.push(text(m)) });
      nc.publish(`${prefix}.iso`, 'from here');
      await Promise.all([nc.flush(), other.flush()]);
      expect(here).toEqual(['from here']);
      expect(there).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('in-process - a published event reaches every subscriber, on any connection of the same name', async () => {
    const second = await connectNats({ url, name: 'second' });
    try {
      const secondClient = new MessageClient(second, {
        subjectPrefix: prefix,
        defaultTimeoutMs: 1_000,
        signer: testContextSigner,
      });
      const first: number[] = [];
      const other: number[] = [];
      const a = client.subscribe(Pinged, ({ n }) => void first.push(n));
      const b = secondClient.subscribe(Pinged, ({ n }) => void other.push(n));
      client.publish(Pinged, { n: 1 });
      secondClient.publish(Pinged, { n: 2 });
      await eventually(() => first.length === 2 && other.length === 2, { what: 'both events on both subscribers' });
      expect(first).toEqual([1, 2]);
      expect(other).toEqual([1, 2]);
      a.unsubscribe();
      b.unsubscribe();
    } finally {
      await second.close();
    }
  });

  it('in-process - the event stream drops a repeated message id within its window', async () => {
    const config = {
      name: `${prefix.toUpperCase()}_EVENTS`,
      subjects: [`${prefix}.events.>`],
      duplicateWindowNs: 60 * 1_000_000_000,
      maxAgeNs: 3_600 * 1_000_000_000,
    };
    const received: string[] = [];
    const sub = nc.subscribe(`${prefix}.events.>`, {
      callback: (_e, m) => void received.push(`${m.subject}=${text(m)}`),
    });
    const stream = await openEventStream(nc, config);
    await stream.publish(`${prefix}.events.t1.created`, 'a', 'id-1');
    await stream.publish(`${prefix}.events.t1.created`, 'a again', 'id-1');
    await stream.publish(`${prefix}.events.t1.updated`, 'b', 'id-2');
    // A stream opened on another connection of the same server shares the window.
    const second = await connectNats({ url, name: 'relay-2' });
    await (await openEventStream(second, config)).publish(`${prefix}.events.t1.created`, 'a from 2', 'id-1');
    await expect(stream.publish('elsewhere.subject', 'x', 'id-3')).rejects.toBeInstanceOf(errors.RequestError);
    await Promise.all([nc.flush(), second.flush()]);
    await second.close();
    sub.unsubscribe();
    expect(received).toEqual([`${prefix}.events.t1.created=a`, `${prefix}.events.t1.updated=b`]);
  });

  it('in-process - after close, requests fail with SERVICE_UNAVAILABLE and publish throws', async () => {
    const closing = await connectNats({ url, name: 'closing' });
    const closingClient = new MessageClient(closing, {
      subjectPrefix: prefix,
      defaultTimeoutMs: 1_000,
      signer: testContextSigner,
    });
    await closing.close();
    expect(closing.isClosed()).toBe(true);
    await expect(closing.closed()).resolves.toBeUndefined();
    await expect(
      runAsTenant(parseTenantSlug('acme'), () => closingClient.request(Probe.whoami, { n: 1 })),
    ).rejects.toMatchObject({ code: MessagingErrorCode.SERVICE_UNAVAILABLE, details: { service: 'nats' } });
    expect(() => closing.publish(`${prefix}.x`, 'x')).toThrow(errors.ClosedConnectionError);
    await expect(closing.flush()).rejects.toBeInstanceOf(errors.ClosedConnectionError);
  });
});

describe('in-process NATS - the connection behaves like nats.js', () => {
  it('in-process - `*` matches one token, `>` one or more, literal subjects only themselves', async () => {
    const nc = await connectNats({ url: inprocUrl(), name: 'wildcards' });
    const got: Record<string, string[]> = { star: [], tail: [], literal: [] };
    nc.subscribe('a.*.c', { callback: (_e, m) => void got.star!.push(m.subject) });
    nc.subscribe('a.>', { callback: (_e, m) => void got.tail!.push(m.subject) });
    nc.subscribe('a.b.c', { callback: (_e, m) => void got.literal!.push(m.subject) });
    for (const subject of ['a.b.c', 'a.x.c', 'a.b', 'a.b.c.d', 'a', 'b.b.c']) nc.publish(subject);
    await nc.flush();
    expect(got).toEqual({
      star: ['a.b.c', 'a.x.c'],
      tail: ['a.b.c', 'a.x.c', 'a.b', 'a.b.c.d'],
      literal: ['a.b.c'],
    });
    expect(() => nc.subscribe('a.>.c')).toThrow(errors.InvalidSubjectError);
    expect(() => nc.publish('a.*')).toThrow(errors.InvalidSubjectError);
    await nc.close();
  });

  it('in-process - delivery is never synchronous, and each receiver gets its own data and headers', async () => {
    const nc = await connectNats({ url: inprocUrl(), name: 'copies' });
    const received: Msg[] = [];
    nc.subscribe('copy', { callback: (_e, m) => void received.push(m) });
    nc.subscribe('copy', { callback: (_e, m) => void received.push(m) });
    const data = new TextEncoder().encode('hello');
    const hdrs = natsHeaders();
    hdrs.set('X-Probe', 'sent');
    nc.publish('copy', data, { headers: hdrs });
    expect(received).toHaveLength(0);
    data[0] = 0;
    hdrs.set('X-Probe', 'changed after publish');
    await nc.flush();
    expect(received).toHaveLength(2);
    received[0]!.headers!.set('X-Probe', 'mutated by a receiver');
    received[0]!.data[1] = 0;
    expect(received[1]!.string()).toBe('hello');
    expect(received[1]!.headers!.get('X-Probe')).toBe('sent');
    expect(hdrs.get('X-Probe')).toBe('changed after publish');
    expect(received[1]!.data).toBeInstanceOf(Uint8Array);
    await nc.close();
  });

  it('in-process - an iterator subscription yields messages and the status stream ends on close', async () => {
    const nc = await connectNats({ url: inprocUrl(), name: 'iterators' });
    const statuses: string[] = [];
    const watching = (async () => {
      for await (const status of nc.status()) statuses.push(status.type);
    })();
    const sub = nc.subscribe('it', { max: 2 });
    nc.publish('it', 'one');
    nc.publish('it', 'two');
    nc.publish('it', 'three');
    const seen: string[] = [];
    for await (const m of sub) seen.push(m.string());
    expect(seen).toEqual(['one', 'two']);
    expect(sub.isClosed()).toBe(true);
    await nc.close();
    await watching;
    expect(statuses).toEqual(['close']);
  });

  it('in-process - drain delivers what was already published, then closes and fails pending requests', async () => {
    const url = inprocUrl();
    const nc = await connectNats({ url, name: 'draining' });
    const peer = await connectNats({ url, name: 'peer' });
    const received: string[] = [];
    nc.subscribe('work', { callback: (_e, m) => void received.push(m.string()) });
    peer.subscribe('never.answers', { callback: () => undefined });
    const pending = peer.request('never.answers', 'x', { timeout: 5_000 }).catch((e: unknown) => e);
    peer.publish('work', 'w1');
    peer.publish('work', 'w2');
    await nc.drain();
    expect(received).toEqual(['w1', 'w2']);
    expect(nc.isClosed()).toBe(true);
    await peer.close();
    const failure = await pending;
    expect(failure).toBeInstanceOf(errors.RequestError);
    expect((failure as Error).message).toBe('connection closed');
  });
});
