import { Logger } from '@nestjs/common';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type MsgRequest,
  type StreamConfig,
} from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { BrokerKeys } from '#polystore/device-broker';
import type { TenantSlug } from '#polystore/tenancy';
import { injectTraceContext, SpanKind, startSpan, traced } from '#polystore/tracing';
import { connectToBroker } from './broker-connection.js';

/** The stream every device message lands in (`tenants.>`), and the one of messages that could not be stored. */
export const TELEMETRY_STREAM = 'TELEMETRY';
export const DEAD_LETTER_STREAM = 'DEAD_LETTERS';
/**
 * HTTP ingest publishes `<this><device subject>`: a subject no device credential may publish to,
 * so the consumer knows these readings already passed the HTTP rate limit.
 */
export const HTTP_INGEST_PREFIX = 'ingest.http.';

const NANOS_PER_MS = 1_000_000;

/** Instrumentation scope of the telemetry stream's spans (publish for HTTP ingest, consume). */
export const TRACER_SCOPE = 'polystore-telemetry-stream';

/** Messaging attributes of a span on the telemetry stream (OpenTelemetry messaging conventions). */
export function telemetryAttributes(operation: 'send' | 'process', subject: string): Record<string, string> {
  return {
    'messaging.system': 'nats',
    'messaging.operation.type': operation,
    'messaging.destination.name': subject,
    'messaging.destination.template': TELEMETRY_STREAM,
  };
}

/** How the streams are sized (from the edge store's configuration). */
export interface TelemetryStreamSettings {
  readonly replicas: number;
  readonly maxBytes: number;
  readonly maxAgeHours: number;
  readonly maxMessageBytes: number;
  readonly consumer: string;
  readonly maxInFlight: number;
  /** How long a message handed to a replica may stay unacknowledged before it is redelivered. */
  readonly redeliverAfterMs: number;
}

/** Why a message went to the dead letters (a header of the dead letter, and a metric label). */
/** The telemetry stream as {@link TelemetryBroker.backlog} reads it. */
export interface StreamBacklog {
  /** Bytes over the stream's byte limit (0 without one). */
  readonly fillRatio: number;
  readonly messages: number;
  /** When the oldest message reached the stream (ms since the epoch), null when empty. */
  readonly oldestAt: number | null;
  readonly bytes: number;
  readonly maxMessages: number | null;
  readonly maxBytes: number | null;
}

export type DeadLetterReason = 'bad-subject' | 'invalid-payload' | 'rate-limited' | 'unknown-tenant' | 'not-stored';

/**
 * The edge store's connection to the device broker (the project's NATS server), as the devices
 * account's ingest user: the telemetry stream, its durable pull consumer shared by every replica,
 * the dead-letter stream, and publishing for HTTP ingest. Creating the streams is idempotent and
 * converges their settings to the configuration (replicas that boot together race harmlessly).
 */
export class TelemetryBroker {
  private readonly logger = new Logger(TelemetryBroker.name);

  private constructor(
    readonly connection: NatsConnection,
    readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly settings: TelemetryStreamSettings,
  ) {}

  /** Connects as the ingest user (reconnecting for ever) and makes sure the streams and the consumer exist. */
  static async connect(
    servers: readonly string[],
    keys: BrokerKeys,
    name: string,
    settings: TelemetryStreamSettings,
  ): Promise<TelemetryBroker> {
    const connection = await connectToBroker(servers, { user: keys.ingestUser, account: keys.devicesAccount, name });
    const broker = new TelemetryBroker(connection, jetstream(connection), await jetstreamManager(connection), settings);
    await broker.ensureStreams();
    return broker;
  }

  /** Creates or updates the streams and the consumer. */
  async ensureStreams(): Promise<void> {
    const s = this.settings;
    await this.ensureStream({
      name: TELEMETRY_STREAM,
      subjects: ['tenants.>', `${HTTP_INGEST_PREFIX}>`],
      storage: StorageType.File,
      // A reading leaves the stream once the edge store has acknowledged it (committed): the
      // limits below bound only the backlog of readings not stored yet.
      retention: RetentionPolicy.Workqueue,
      discard: DiscardPolicy.Old,
      max_bytes: s.maxBytes,
      max_age: s.maxAgeHours * 3_600_000 * NANOS_PER_MS,
      max_msg_size: s.maxMessageBytes,
      num_replicas: s.replicas,
    });
    await this.ensureStream({
      name: DEAD_LETTER_STREAM,
      subjects: ['deadletters.>'],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_bytes: Math.max(1_048_576, Math.floor(s.maxBytes / 8)),
      max_age: 30 * 24 * 3_600_000 * NANOS_PER_MS,
      num_replicas: s.replicas,
    });
    const consumer = {
      durable_name: s.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // A message handed to a replica that died is redelivered after this.
      ack_wait: s.redeliverAfterMs * NANOS_PER_MS,
      max_ack_pending: Math.max(20_000, s.maxInFlight * 4),
      max_deliver: -1,
    };
    try {
      await this.jsm.consumers.add(TELEMETRY_STREAM, consumer);
    } catch {
      await this.jsm.consumers.update(TELEMETRY_STREAM, s.consumer, {
        ack_wait: consumer.ack_wait,
        max_ack_pending: consumer.max_ack_pending,
      });
    }
  }

  /** Publishes an HTTP request's readings into the telemetry stream; resolves once the stream has them on disk. */
  async publishHttpReadings(deviceSubject: string, payload: Uint8Array): Promise<void> {
    const subject = `${HTTP_INGEST_PREFIX}${deviceSubject}`;
    // A PRODUCER span whose context rides in the message: the stream consumer continues the trace.
    const span = startSpan(TRACER_SCOPE, `send ${TELEMETRY_STREAM}`, {
      kind: SpanKind.PRODUCER,
      attributes: telemetryAttributes('send', subject),
    });
    if (!span) {
      await this.js.publish(subject, payload, { timeout: 5_000 });
      return;
    }
    const h = headers();
    injectTraceContext(span, h);
    await traced(span, () => this.js.publish(subject, payload, { timeout: 5_000, headers: h }));
  }

  /** Stores a message that cannot become readings, with why, in the dead-letter stream. */
  async deadLetter(origin: string, reason: DeadLetterReason, detail: string, payload: Uint8Array): Promise<void> {
    const h = headers();
    h.set('Polystore-Reason', reason);
    h.set('Polystore-Detail', detail.slice(0, 500).replace(/[\r\n]/g, ' '));
    h.set('Polystore-Subject', origin);
    const device = origin.startsWith(HTTP_INGEST_PREFIX) ? origin.slice(HTTP_INGEST_PREFIX.length) : origin;
    const subject = device.startsWith('tenants.')
      ? `deadletters.${device.slice('tenants.'.length)}`
      : 'deadletters.unrouted';
    await this.js.publish(subject, payload, { headers: h, timeout: 5_000 });
  }

  /**
   * The backlog: device messages not stored yet (a work queue keeps a message until the edge
   * store acknowledges it), its bytes over the stream's limit (0..1), and when its oldest
   * message reached the stream (null when empty); the stream's bytes and its limits too (null:
   * no limit).
   */
  async backlog(): Promise<StreamBacklog> {
    const { config, state } = await this.jsm.streams.info(TELEMETRY_STREAM);
    const oldestAt = state.messages > 0 ? Date.parse(state.first_ts) : NaN;
    return {
      fillRatio: config.max_bytes > 0 ? state.bytes / config.max_bytes : 0,
      messages: state.messages,
      oldestAt: Number.isFinite(oldestAt) ? oldestAt : null,
      bytes: state.bytes,
      maxMessages: config.max_msgs > 0 ? config.max_msgs : null,
      maxBytes: config.max_bytes > 0 ? config.max_bytes : null,
    };
  }

  /**
   * The tenant's readings in the stream not stored yet (the stream is a work queue: a message
   * leaves once the edge store acknowledged it after its commit), over MQTT and HTTP, and the
   * stream's time of the oldest (epoch ms; null when none). Two subject filters, each a count
   * (`subjects_filter`) and, when there are any, the first message by subject.
   */
  async tenantBacklog(tenant: TenantSlug): Promise<{ messages: number; oldestAt: number | null }> {
    const filters = [`tenants.${tenant}.>`, `${HTTP_INGEST_PREFIX}tenants.${tenant}.>`];
    const parts = await Promise.all(
      filters.map(async (filter) => {
        const { state } = await this.jsm.streams.info(TELEMETRY_STREAM, { subjects_filter: filter });
        const messages = Object.values(state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
        if (messages === 0) return { messages, oldestAt: null };
        // `next_by_subj` (nats-server 2.9+) is missing from the client's MsgRequest type.
        const first = await this.jsm.streams.getMessage(TELEMETRY_STREAM, {
          seq: state.first_seq,
          next_by_subj: filter,
        } as unknown as MsgRequest);
        return { messages, oldestAt: first ? first.time.getTime() : null };
      }),
    );
    const dated = parts.flatMap((p) => (p.oldestAt === null ? [] : [p.oldestAt]));
    return {
      messages: parts.reduce((sum, p) => sum + p.messages, 0),
      oldestAt: dated.length > 0 ? Math.min(...dated) : null,
    };
  }

  /** Nest calls it after the consumer has stopped (it stops in `beforeApplicationShutdown`). */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    await this.connection.drain().catch(() => this.connection.close());
  }

  private async ensureStream(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      await this.jsm.streams.add(config);
    } catch (error) {
      try {
        // Storage and replicas of an existing stream are changed by an operator, not at boot.
        const { name, storage: _storage, num_replicas: _replicas, ...rest } = config;
        await this.jsm.streams.update(name, rest);
      } catch (updateError) {
        this.logger.error({ stream: config.name, message: (updateError as Error).message }, 'stream not converged');
        throw error;
      }
    }
  }
}
