import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** OTLP span kinds (the protocol's numbers). */
export const SpanKindNumber = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** One span as an OTLP exporter sent it, with the `service.name` of its process. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a span that has no parent in this trace's processes (a root, or one continuing a client's traceparent). */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  /** How it arrived: OTLP/HTTP JSON or protobuf. */
  readonly encoding: 'json' | 'protobuf';
}

/**
 * A small OTLP/HTTP trace receiver for tests (`POST /v1/traces`), decoding both encodings an
 * exporter may be configured with: `application/json` (OTLP JSON) and `application/x-protobuf`
 * (decoded here by a minimal protobuf reader of the few `ExportTraceServiceRequest` fields a
 * test asserts on). Every span received is kept, in arrival order.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests that could not be decoded (a test should expect none). */
  readonly rejected: string[] = [];

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = http.createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (req, res) => receiver.receive(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** The value of OTEL_EXPORTER_OTLP_ENDPOINT (exporters append `/v1/traces`). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const type = req.headers['content-type'] ?? '';
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (req.method !== 'POST' || req.url !== '/v1/traces') throw new Error(`${req.method} ${req.url}`);
        if (type.startsWith('application/json')) {
          this.spans.push(...spansOfJson(JSON.parse(body.toString('utf8'))));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else if (type.startsWith('application/x-protobuf')) {
          this.spans.push(...spansOfProtobuf(body));
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        } else {
          throw new Error(`content type ${type}`);
        }
      } catch (error) {
        this.rejected.push(`${type}: ${(error as Error).message}`);
        res.writeHead(400).end();
      }
    });
  }
}

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

/** OTLP JSON: ids are hex strings (base64 accepted too), kinds numbers, attributes typed values. */
function spansOfJson(request: any): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const service = text(attributesOfJson(resourceSpans.resource?.attributes)['service.name']);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          service,
          traceId: hexId(span.traceId),
          spanId: hexId(span.spanId),
          parentSpanId: hexId(span.parentSpanId),
          name: span.name,
          kind: Number(span.kind),
          attributes: attributesOfJson(span.attributes),
          encoding: 'json',
        });
      }
    }
  }
  return spans;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function attributesOfJson(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, Object.values(value)[0]]));
}

function hexId(id: unknown): string {
  if (typeof id !== 'string' || id === '') return '';
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16)
    ? id.toLowerCase()
    : Buffer.from(id, 'base64').toString('hex');
}

/** A protobuf field: its number and its value (a varint, or the bytes of a length-delimited field). */
type Field = { readonly number: number; readonly varint?: bigint; readonly bytes?: Buffer };

/** The fields of one protobuf message (fixed-width values are skipped: no asserted field uses them). */
function fieldsOf(buffer: Buffer): Field[] {
  const fields: Field[] = [];
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[offset++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  };
  while (offset < buffer.length) {
    const key = Number(varint());
    const number = key >>> 3;
    switch (key & 7) {
      case 0:
        fields.push({ number, varint: varint() });
        break;
      case 1:
        offset += 8;
        break;
      case 2: {
        const length = Number(varint());
        fields.push({ number, bytes: buffer.subarray(offset, offset + length) });
        offset += length;
        break;
      }
      case 5:
        offset += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${key & 7}`);
    }
  }
  return fields;
}

const messages = (fields: Field[], number: number): Buffer[] =>
  fields.filter((f) => f.number === number && f.bytes).map((f) => f.bytes!);

/** KeyValue (1 key, 2 AnyValue: 1 string, 2 bool, 3 int) list as an object. */
function attributesOfProtobuf(list: Buffer[]): Record<string, unknown> {
  return Object.fromEntries(
    list.map((keyValue) => {
      const fields = fieldsOf(keyValue);
      const key = messages(fields, 1)[0]?.toString('utf8') ?? '';
      const value = fieldsOf(messages(fields, 2)[0] ?? Buffer.alloc(0))[0];
      if (!value) return [key, undefined];
      if (value.number === 1) return [key, value.bytes?.toString('utf8')];
      if (value.number === 2) return [key, value.varint === 1n];
      if (value.number === 3) return [key, Number(value.varint)];
      return [key, undefined];
    }),
  );
}

/**
 * ExportTraceServiceRequest: 1 ResourceSpans (1 Resource (1 attributes), 2 ScopeSpans (2 Span:
 * 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 9 attributes)).
 */
function spansOfProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of messages(fieldsOf(body), 1)) {
    const fields = fieldsOf(resourceSpans);
    const resource = fieldsOf(messages(fields, 1)[0] ?? Buffer.alloc(0));
    const service = text(attributesOfProtobuf(messages(resource, 1))['service.name']);
    for (const scopeSpans of messages(fields, 2)) {
      for (const span of messages(fieldsOf(scopeSpans), 2)) {
        const f = fieldsOf(span);
        spans.push({
          service,
          traceId: messages(f, 1)[0]?.toString('hex') ?? '',
          spanId: messages(f, 2)[0]?.toString('hex') ?? '',
          parentSpanId: messages(f, 4)[0]?.toString('hex') ?? '',
          name: messages(f, 5)[0]?.toString('utf8') ?? '',
          kind: Number(f.find((x) => x.number === 6)?.varint ?? 0n),
          attributes: attributesOfProtobuf(messages(f, 9)),
          encoding: 'protobuf',
        });
      }
    }
  }
  return spans;
}
