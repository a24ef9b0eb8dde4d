import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { parseTelemetrySubject } from '#polystore/device-broker';
import { ErrorKind, isCodedError, METRICS_REGISTRY } from '#polystore/platform';
import { isTenantSlug } from '#polystore/tenancy';
import { continuesTrace, extractTraceContext, SpanKind, startSpan, traced } from '#polystore/tracing';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  HTTP_INGEST_PREFIX,
  TELEMETRY_STREAM,
  TRACER_SCOPE,
  telemetryAttributes,
  type DeadLetterReason,
  type StreamBacklog,
  type TelemetryBroker,
} from '../broker/telemetry-broker.js';
import type { EdgeStoreConfig } from '../config.js';
import { EDGE_CONFIG, TELEMETRY_BROKER } from '../edge.tokens.js';
import { IngestService } from './ingest.service.js';
import { validateReadings } from './reading.validator.js';

/** A stream fuller than this is reported (log and `polystore_telemetry_stream_fill_ratio`). */
const FILL_ALERT = 0.8;

/**
 * Stores what devices publish: a durable pull consumer on the telemetry stream, shared by every
 * edge replica (they split the messages; one that dies leaves its unacknowledged messages to be
 * redelivered to the others after the ack wait).
 *
 * A message is acknowledged only after its readings are committed, or after it is stored in the
 * dead-letter stream with its reason (bad subject, invalid payload, rate limit, unknown tenant,
 * or repeated failure). A database outage is not the message's fault: it is retried with backoff
 * until the database is back, for as long as the stream keeps it. Redelivery never duplicates a
 * reading (`(deviceId, seq)` is unique).
 */
@Injectable()
export class StreamConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StreamConsumer.name);
  private readonly deadLetters: Counter<'reason'>;
  private readonly storedLatency: Histogram;
  private readonly naks: Counter<'reason'>;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private stopping = false;
  private fillTimer?: NodeJS.Timeout;
  private backlog: StreamBacklog = {
    fillRatio: 0,
    messages: 0,
    oldestAt: null,
    bytes: 0,
    maxMessages: null,
    maxBytes: null,
  };
  /** When {@link backlog} was last read from the broker (null: not yet). */
  private backlogAt: Date | null = null;

  constructor(
    private readonly ingest: IngestService,
    @Inject(TELEMETRY_BROKER) private readonly broker: TelemetryBroker,
    @Inject(EDGE_CONFIG) private readonly config: EdgeStoreConfig,
    @Inject(METRICS_REGISTRY) metrics: Registry,
  ) {
    this.deadLetters = new Counter({
      name: 'polystore_ingest_dead_letters_total',
      help: 'Device messages moved to the dead-letter stream, by reason',
      labelNames: ['reason'],
      registers: [metrics],
    });
    this.naks = new Counter({
      name: 'polystore_ingest_redeliveries_total',
      help: 'Device messages handed back to the stream for a later attempt, by reason',
      labelNames: ['reason'],
      registers: [metrics],
    });
    this.storedLatency = new Histogram({
      name: 'polystore_ingest_publish_to_stored_seconds',
      help: 'From the stream receiving a device message to its readings committed',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [metrics],
    });
    const backlog = () => this.backlog;
    new Gauge({
      name: 'polystore_telemetry_stream_fill_ratio',
      help: `Bytes in the telemetry stream over its limit; past 1 the oldest readings are discarded (alert at ${FILL_ALERT})`,
      registers: [metrics],
      collect() {
        this.set(backlog().fillRatio);
      },
    });
    new Gauge({
      name: 'polystore_ingest_backlog_messages',
      help: 'Device messages in the telemetry stream not stored yet (checked every TELEMETRY_FILL_CHECK_MS)',
      registers: [metrics],
      collect() {
        this.set(backlog().messages);
      },
    });
    new Gauge({
      name: 'polystore_ingest_lag_seconds',
      help: 'Age of the oldest device message in the telemetry stream not stored yet (0 when none)',
      registers: [metrics],
      collect() {
        const oldestAt = backlog().oldestAt;
        this.set(oldestAt === null ? 0 : Math.max(0, Date.now() - oldestAt) / 1000);
      },
    });
  }

  /**
   * The telemetry stream as last read (every TELEMETRY_FILL_CHECK_MS; no broker call here) and
   * when, or null before the first read succeeded: the health answer's `stream`.
   */
  streamState(): { readonly backlog: StreamBacklog; readonly checkedAt: Date } | null {
    return this.backlogAt ? { backlog: this.backlog, checkedAt: this.backlogAt } : null;
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
    const watchFill = async () => {
      try {
        this.backlog = await this.broker.backlog();
        this.backlogAt = new Date();
        if (this.backlog.fillRatio >= FILL_ALERT)
          this.logger.warn(
            { fill: Number(this.backlog.fillRatio.toFixed(3)) },
            'the telemetry stream is nearly full: oldest readings will be discarded',
          );
      } catch {
        // The broker is away; the consumer logs that already.
      }
    };
    void watchFill();
    this.fillTimer = setInterval(() => void watchFill(), this.config.TELEMETRY_FILL_CHECK_MS);
    this.fillTimer.unref();
  }

  /**
   * Before the connections close: stops pulling, commits and acknowledges what was handed over,
   * and flushes the acks (what is left unacknowledged is redelivered to another replica).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.fillTimer);
    await this.messages?.close();
    await this.loop;
    await this.ingest.buffer.close();
    await this.broker.connection.flush().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const consumer = await this.broker.js.consumers.get(TELEMETRY_STREAM, this.config.INGEST_CONSUMER);
        // Short pulls: a lost server (or consumer leader) is noticed within seconds, not 30 s.
        this.messages = await consumer.consume({ max_messages: this.config.INGEST_MAX_IN_FLIGHT, expires: 5_000 });
        for await (const message of this.messages) {
          if (this.stopping) {
            message.nak();
            continue;
          }
          await this.traced(message);
        }
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn({ message: (error as Error).message }, 'telemetry consumer interrupted; resuming');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await this.broker.ensureStreams().catch(() => undefined);
      }
    }
  }

  /**
   * {@link handle} in a CONSUMER span continuing the publisher's trace. Only HTTP ingest sends a
   * `traceparent`; device messages over MQTT carry none and are not traced (one new trace per
   * device message would drown the others). The span covers the hand-off to the write buffer or
   * the dead letter; a batched insert serves many messages and shows in the trace of the message
   * that opened the batch.
   */
  private traced(message: JsMsg): Promise<void> {
    const parent = extractTraceContext(message.headers);
    if (!continuesTrace(parent)) return this.handle(message);
    const span = startSpan(TRACER_SCOPE, `process ${TELEMETRY_STREAM}`, {
      kind: SpanKind.CONSUMER,
      attributes: telemetryAttributes('process', message.subject),
      parent,
    });
    return traced(span, () => this.handle(message), parent);
  }

  private async handle(message: JsMsg): Promise<void> {
    const viaHttp = message.subject.startsWith(HTTP_INGEST_PREFIX);
    const route = parseTelemetrySubject(viaHttp ? message.subject.slice(HTTP_INGEST_PREFIX.length) : message.subject);
    if (!route || !isTenantSlug(route.tenant))
      return this.deadLetter(message, 'bad-subject', 'not a device telemetry subject');
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(message.data).toString('utf8'));
    } catch {
      return this.deadLetter(message, 'invalid-payload', 'payload is not valid JSON');
    }
    const { valid, invalid } = validateReadings(payload);
    if (invalid.length > 0)
      return this.deadLetter(message, 'invalid-payload', invalid.map((r) => `[${r.index}] ${r.reason}`).join('; '));
    // HTTP readings passed the same limit when they were accepted (429 otherwise).
    if (!viaHttp && !this.ingest.limiter.take(route.deviceId, valid.length))
      return this.deadLetter(message, 'rate-limited', `over ${this.config.DEVICE_RATE_LIMIT_PER_S} readings/s`);
    const rows = IngestService.toRows(route.deviceId, valid);
    await this.ingest.waitForRoom(rows.length);
    const accepted = this.ingest.buffer.offer(route.tenant, rows, (error) => this.settle(message, rows.length, error), {
      retry: false,
    });
    if (!accepted) {
      this.naks.inc({ reason: 'closing' });
      message.nak();
    }
  }

  private settle(message: JsMsg, rows: number, error?: Error): void {
    if (!error) {
      message.ack();
      this.ingest.countStored('stream', rows);
      this.storedLatency.observe(Math.max(0, Date.now() - message.info.timestampNanos / 1e6) / 1000);
      return;
    }
    const code = (error as { code?: string }).code ?? 'UNKNOWN';
    if (code === 'TENANT_NOT_FOUND' || code === 'PLACEMENT_NOT_FOUND') {
      void this.deadLetter(message, 'unknown-tenant', code);
      return;
    }
    const transient = isCodedError(error) && error.kind === ErrorKind.UNAVAILABLE;
    const deliveries = message.info.deliveryCount;
    if (!transient && deliveries >= this.config.INGEST_MAX_DELIVERIES) {
      void this.deadLetter(message, 'not-stored', `${code} after ${deliveries} deliveries`);
      return;
    }
    this.naks.inc({ reason: transient ? 'database-unavailable' : 'failed' });
    message.nak(Math.min(30_000, 250 * 2 ** Math.min(deliveries, 7)));
  }

  private async deadLetter(message: JsMsg, reason: DeadLetterReason, detail: string): Promise<void> {
    try {
      await this.broker.deadLetter(message.subject, reason, detail, message.data);
      this.deadLetters.inc({ reason });
      this.ingest.countRejected('stream', reason);
      message.ack();
    } catch (error) {
      this.logger.warn(
        { reason, message: (error as Error).message },
        'dead letter not stored; the message will be redelivered',
      );
      message.nak(1_000);
    }
  }
}
