import { Injectable, Logger } from '@nestjs/common';
import { runAsTenant, type TenantSlug } from '#polystore/tenancy';
import { Counter, Histogram, type Registry } from 'prom-client';
import { EdgeStoreException } from '../edge-store.exception.js';
import { ReadingRepository } from '../telemetry/reading.repository.js';
import { IngestBuffer, type ReadingRow } from './ingest-buffer.js';
import { validateReadings, type Reading } from './reading.validator.js';

/** A device message, as the MQTT consumer hands it over. */
export interface DeviceMessage {
  readonly tenant: TenantSlug;
  readonly deviceId: string;
  readonly payload: Buffer;
  /** `performance.now()` when the message arrived (for the acknowledgement latency). */
  readonly receivedAt: number;
}

/** What became of an MQTT message: stored, dead-lettered, or no room yet (try again later). */
export type MqttOutcome = 'queued' | 'no-room';

/**
 * The two ingest paths share one buffer. HTTP: all-or-nothing validation (400 listing every
 * invalid reading), 429 when the buffer is full, 202 after commit. MQTT: invalid messages go to
 * the tenant's dead letters with their reason (and are counted), valid ones wait for room in the
 * buffer; either way the broker gets its PUBACK only after the commit.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  private readonly rejected: Counter<'path' | 'reason'>;
  private readonly ackLatency: Histogram<'path'>;
  private readonly stored: Counter<'path'>;

  constructor(
    readonly buffer: IngestBuffer,
    private readonly readings: ReadingRepository,
    metrics: Registry,
  ) {
    this.rejected = new Counter({
      name: 'polystore_ingest_rejected_total',
      help: 'Readings or messages refused by ingest, by path and reason',
      labelNames: ['path', 'reason'],
      registers: [metrics],
    });
    this.ackLatency = new Histogram({
      name: 'polystore_ingest_ack_seconds',
      help: 'From receipt to acknowledgement (HTTP 202, MQTT PUBACK), i.e. until the commit',
      labelNames: ['path'],
      buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10],
      registers: [metrics],
    });
    this.stored = new Counter({
      name: 'polystore_ingest_readings_total',
      help: 'Readings acknowledged after their commit, by path',
      labelNames: ['path'],
      registers: [metrics],
    });
  }

  /** HTTP: stores every reading of `body` or none; resolves after commit. */
  async submitHttp(tenant: TenantSlug, deviceId: string, body: unknown): Promise<{ accepted: number }> {
    const { valid, invalid } = validateReadings(body);
    if (invalid.length > 0) {
      this.rejected.inc({ path: 'http', reason: 'invalid' }, invalid.length);
      throw EdgeStoreException.invalidReadings(invalid);
    }
    const rows = toRows(deviceId, valid);
    const stopTimer = this.ackLatency.startTimer({ path: 'http' });
    await new Promise<void>((resolve, reject) => {
      const accepted = this.buffer.offer(tenant, rows, (error) => (error ? reject(error) : resolve()), {
        retry: false,
      });
      if (!accepted) {
        this.rejected.inc({ path: 'http', reason: 'busy' }, rows.length);
        reject(EdgeStoreException.busy());
      }
    });
    stopTimer();
    this.stored.inc({ path: 'http' }, rows.length);
    return { accepted: rows.length };
  }

  /**
   * MQTT: `done` is called once the message is durably handled (readings committed, or the
   * message stored as a dead letter); with an error when it is not (the caller must not ack).
   * Returns `no-room` when the buffer is full: nothing was done, offer it again later.
   */
  submitMqtt(message: DeviceMessage, done: (error?: Error) => void): MqttOutcome {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.payload.toString('utf8'));
    } catch {
      this.deadLetter(message, 'payload is not valid JSON', done);
      return 'queued';
    }
    const { valid, invalid } = validateReadings(parsed);
    if (invalid.length > 0) {
      this.deadLetter(message, invalid.map((r) => `[${r.index}] ${r.reason}`).join('; '), done);
      return 'queued';
    }
    const rows = toRows(message.deviceId, valid);
    const completed = (error?: Error) => {
      if (!error) {
        this.ackLatency.observe({ path: 'mqtt' }, (performance.now() - message.receivedAt) / 1000);
        this.stored.inc({ path: 'mqtt' }, rows.length);
      }
      done(error);
    };
    return this.buffer.offer(message.tenant, rows, completed, { retry: true }) ? 'queued' : 'no-room';
  }

  private deadLetter(message: DeviceMessage, reason: string, done: (error?: Error) => void): void {
    this.rejected.inc({ path: 'mqtt', reason: 'invalid' });
    runAsTenant(
      message.tenant,
      () => this.readings.insertDeadLetter(message.deviceId, reason, message.payload),
      30_000,
    ).then(
      () => done(),
      (error: unknown) => {
        this.logger.warn(
          { tenant: message.tenant, code: (error as { code?: string }).code },
          'dead letter not stored; the message stays unacknowledged',
        );
        done(error as Error);
      },
    );
  }
}

function toRows(deviceId: string, readings: readonly Reading[]): ReadingRow[] {
  const receivedAt = new Date();
  return readings.map((r) => ({ deviceId, seq: r.seq, ts: r.ts, receivedAt, metrics: r.metrics }));
}
