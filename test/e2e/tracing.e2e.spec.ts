import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { uniqueToken } from '../support/ids.js';
import { OtlpReceiver, SpanKindNumber, type ReceivedSpan } from '../support/otlp-receiver.js';
import { TestStack, type AppName, type TestTenant } from '../support/stack.js';

/** A client's own trace: the `traceparent` it sends, and the ids the gateway must continue. */
function clientTrace(): { traceId: string; parentId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

/** `span` and its ancestors in `spans`, from `span` up to the first one whose parent is not there. */
function pathToRoot(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const path = [span];
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) path.push(parent);
  return path;
}

const isQuery = (span: ReceivedSpan, system: string) =>
  span.kind === SpanKindNumber.CLIENT && (span.attributes['db.system'] ?? span.attributes['db.system.name']) === system;

/**
 * The path from a store's SQL span up to the client's span: the SQL span under the store's NATS
 * SERVER span, whose parent is the gateway's NATS CLIENT span, under the gateway's HTTP SERVER
 * span, whose parent is the client's own span. Undefined while spans are still arriving.
 */
function hopsOf(spans: readonly ReceivedSpan[], store: AppName, dbSystem: string, clientParentId: string) {
  for (const sql of spans.filter((s) => s.service === store && isQuery(s, dbSystem))) {
    const path = pathToRoot(spans, sql);
    const root = path.at(-1)!;
    const storeServer = path.find((s) => s.service === store && s.kind === SpanKindNumber.SERVER);
    const natsClient = storeServer && spans.find((s) => s.spanId === storeServer.parentSpanId);
    if (root.parentSpanId !== clientParentId || !storeServer || !natsClient) continue;
    return { sql, storeServer, natsClient, path, root };
  }
  return undefined;
}

describe('tracing - one OpenTelemetry trace spans gateway, NATS, stores and SQL (e2e, OTLP/HTTP)', () => {
  let receiver: OtlpReceiver;
  let stack: TestStack;
  let tenant: TestTenant;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    const protobuf = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'edge-store', 'gateway'],
      parallelStart: true,
      env: {
        LOG_LEVEL: 'debug',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      // Both encodings in one trace: the secure and reliable stores export protobuf.
      appEnv: { 'secure-store': protobuf, 'reliable-store': protobuf },
    });
    tenant = await stack.createTenant('tracing');
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  const call = (method: string, path: string, body: unknown, headers: Record<string, string>) =>
    stack.request({ method, path, body, headers, tenant: tenant.slug, apiKey: tenant.apiKey });

  it('tracing - a customer read continues the client traceparent through gateway HTTP, NATS, the secure store and its SQL', async () => {
    const created = await call('POST', '/v1/customers', { name: 'Traced Reader', email: 'traced@example.com' }, {});
    expect(created.status).toBe(201);
    const client = clientTrace();

    const read = await call('GET', `/v1/customers/${created.body.id as string}`, undefined, {
      traceparent: client.traceparent,
    });
    expect(read.status).toBe(200);

    const hops = await eventually(
      () => hopsOf(receiver.trace(client.traceId), 'secure-store', 'postgresql', client.parentId),
      {
        what: 'the secure store SQL span under the client trace',
      },
    );
    // The gateway continued the client's trace: its HTTP span is the child of the client's span.
    expect(hops.root).toMatchObject({ service: 'gateway', kind: SpanKindNumber.SERVER });
    expect(hops.root.attributes['http.route']).toBe('/v1/customers/:id');
    // One NATS hop: the gateway's CLIENT span is the direct parent of the store's SERVER span.
    expect(hops.natsClient).toMatchObject({ service: 'gateway', kind: SpanKindNumber.CLIENT });
    expect(hops.natsClient.attributes['messaging.system']).toBe('nats');
    expect(hops.storeServer.attributes['messaging.system']).toBe('nats');
    expect(hops.storeServer.name).toBe(hops.natsClient.name.replace(/^send /, 'process '));
    expect(pathToRoot(receiver.trace(client.traceId), hops.natsClient).at(-1)).toBe(hops.root);
    // Each process reports its own service.name, over the encoding it was configured with.
    expect(hops.sql.encoding).toBe('protobuf');
    expect(hops.root.encoding).toBe('json');

    // The store's log line for that message carries the trace id.
    await eventually(
      () =>
        stack
          .app('secure-store')
          .records.some((r) => r['trace_id'] === client.traceId && r['span_id'] === hops.storeServer.spanId),
      { what: 'a secure-store log line with the trace id' },
    );
    expect(receiver.rejected).toEqual([]);
  });

  it('tracing - a device registration saga is one trace: saga and step spans in the gateway, each store and its SQL (pg and mysql2)', async () => {
    const client = clientTrace();
    const registered = await call(
      'POST',
      '/v1/devices',
      { name: `traced-${uniqueToken(6)}`, model: 'EM-340' },
      { 'idempotency-key': `trace-${uniqueToken(10)}`, traceparent: client.traceparent },
    );
    expect(registered.status).toBe(201);

    const stores = [
      ['reliable-store', 'mysql'],
      ['secure-store', 'postgresql'],
      ['edge-store', 'postgresql'],
    ] as const;
    const byStore = await eventually(
      () => {
        const spans = receiver.trace(client.traceId);
        const found = stores.map(([store, db]) => hopsOf(spans, store, db, client.parentId));
        return found.every((hops) => hops !== undefined) ? found : undefined;
      },
      { what: 'SQL spans of the three stores under the client trace' },
    );
    const spans = receiver.trace(client.traceId);
    const saga = spans.find((s) => s.name === 'saga device-registration');
    expect(saga).toMatchObject({ service: 'gateway' });
    for (const hops of byStore) {
      // gateway HTTP -> saga -> step -> NATS client -> store server -> ... -> SQL
      const step = pathToRoot(spans, hops.natsClient)[1]!;
      expect(step.name).toMatch(/^saga device-registration \w+/);
      expect(step.attributes['polystore.saga.step']).toBeDefined();
      expect(pathToRoot(spans, step)).toContain(saga);
      expect(hops.root).toMatchObject({ service: 'gateway', kind: SpanKindNumber.SERVER });
      expect(hops.root.attributes['http.route']).toBe('/v1/devices');
    }
    expect(new Set(spans.map((s) => s.service))).toEqual(
      new Set(['gateway', 'secure-store', 'reliable-store', 'edge-store']),
    );

    // JetStream ingest: the edge store's HTTP span, its PRODUCER span, and the stream consumer's
    // CONSUMER span (its parent is the producer: the traceparent rode in the message).
    const ingest = clientTrace();
    const accepted = await httpRequest({
      port: stack.app('edge-store').port,
      method: 'POST',
      path: '/ingest',
      headers: { authorization: `Bearer ${registered.body.token as string}`, traceparent: ingest.traceparent },
      body: [{ seq: 1, ts: new Date().toISOString(), metrics: { kwh: 1.5 } }],
    });
    expect(accepted.status).toBe(202);
    const consumer = await eventually(
      () => receiver.trace(ingest.traceId).find((s) => s.kind === SpanKindNumber.CONSUMER),
      { what: 'the stream consumer span under the ingest trace' },
    );
    const path = pathToRoot(receiver.trace(ingest.traceId), consumer);
    expect(path.map((s) => `${s.service} ${s.kind}`)).toEqual(
      expect.arrayContaining([`edge-store ${SpanKindNumber.PRODUCER}`, `edge-store ${SpanKindNumber.SERVER}`]),
    );
    expect(path[1]).toMatchObject({ kind: SpanKindNumber.PRODUCER, name: 'send TELEMETRY' });
    expect(path.at(-1)!.parentSpanId).toBe(ingest.parentId);
    expect(receiver.rejected).toEqual([]);
  });

  it('tracing - SQL is recorded without its literals: the logins created for a tenant leave no password in a span', () => {
    const statements = receiver.spans
      .map((s) => s.attributes['db.query.text'] ?? s.attributes['db.statement'])
      .filter((text): text is string => typeof text === 'string');
    // Creating this suite's tenant created its logins, in pg and in MariaDB, inside traced work.
    expect(statements.filter((text) => /(PASSWORD|IDENTIFIED BY) \?/i.test(text)).length).toBeGreaterThan(0);
    expect(statements.filter((text) => /(PASSWORD|IDENTIFIED BY) '/i.test(text))).toEqual([]);
  });
});
