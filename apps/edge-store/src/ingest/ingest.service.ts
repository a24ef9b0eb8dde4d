import { Injectable } from '@nestjs/common';
import { telemetrySubject } from '#polystore/device-broker';
import type { TenantSlug } from '#polystore/tenancy';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { TelemetryBroker } from '../broker/telemetry-broker.js';
import { EdgeStoreException } from '../edge-store.exception.js';
import { DeviceRateLimiter } from './device-rate-limiter.js';
import { IngestBuffer, type ReadingRow } from './ingest-buffer.js';
import { validateReadings, type Reading } from './reading.validator.js';

/**
 * The two ingest paths. HTTP: all-or-nothing validation (400 listing every invalid reading), a
 * per-device rate limit (429), then, with a device broker, a publish into the telemetry stream
 * (202 once the stream has it on disk; the stream consumer stores it), or without one (the
 * quickstart) straight into the write buffer (202 after commit, 429 when the buffer is full).
 * Device messages arrive through {@link StreamConsumer}, which shares the buffer and the metrics.
 */
@Injectable()
export class IngestService {
  private readonly rejected: Counter<'path' | 'reason'>;
  private readonly ackLatency: Histogram<'path'>;
  private readonly stored: Counter<'path'>;
  private readonly roomWaiters: Array<{ rows: number; resolve: () => void }> = [];
  private storedTotal = 0;

  constructor(
    readonly buffer: IngestBuffer,
    metrics: Registry,
    private readonly broker: TelemetryBroker | null,
    /** Shared with the stream consumer: one budget per device across MQTT and HTTP. */
    readonly limiter: DeviceRateLimiter,
  ) {
    this.rejected = new Counter({
      name: 'polystore_ingest_rejected_total',
      help: 'Readings or messages refused by ingest, by path and reason',
      labelNames: ['path', 'reason'],
      registers: [metrics],
    });
    this.ackLatency = new Histogram({
      name: 'polystore_ingest_ack_seconds',
      help: 'From an HTTP ingest request to its 202 (stream ack, or commit without a broker)',
      labelNames: ['path'],
      buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10],
      registers: [metrics],
    });
    this.stored = new Counter({
      name: 'polystore_ingest_readings_total',
      help: 'Readings committed, by path (stream: MQTT and HTTP through the broker; http: without a broker)',
      labelNames: ['path'],
      registers: [metrics],
    });
    buffer.onSettled(() => this.wakeRoomWaiters());
  }

  /** Validates, rate-limits and accepts one HTTP request's readings: all of them or none. */
  async submitHttp(tenant: TenantSlug, deviceId: string, body: unknown): Promise<{ accepted: number }> {
    const { valid, invalid } = validateReadings(body);
    if (invalid.length > 0) {
      this.rejected.inc({ path: 'http', reason: 'invalid' }, invalid.length);
      throw EdgeStoreException.invalidReadings(invalid);
    }
    if (!this.limiter.take(deviceId, valid.length)) {
      this.rejected.inc({ path: 'http', reason: 'rate-limited' }, valid.length);
      throw EdgeStoreException.rateLimited();
    }
    const stopTimer = this.ackLatency.startTimer({ path: 'http' });
    if (this.broker) {
      try {
        await this.broker.publishHttpReadings(telemetrySubject(tenant, deviceId), Buffer.from(JSON.stringify(body)));
      } catch {
        this.rejected.inc({ path: 'http', reason: 'broker-unavailable' }, valid.length);
        throw EdgeStoreException.brokerUnavailable();
      }
    } else {
      await this.writeDirectly(tenant, IngestService.toRows(deviceId, valid));
      this.countStored('http', valid.length);
    }
    stopTimer();
    return { accepted: valid.length };
  }

  /** Resolves once the buffer has room for `rows` more rows. */
  waitForRoom(rows: number): Promise<void> {
    if (this.buffer.hasRoomFor(rows)) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ rows, resolve }));
  }

  countStored(path: 'stream' | 'http', rows: number): void {
    this.stored.inc({ path }, rows);
    this.storedTotal += rows;
  }

  /** Readings committed since this instance started, every path (the health answer's `readingsStored`). */
  readingsStored(): number {
    return this.storedTotal;
  }

  countRejected(path: 'stream' | 'http', reason: string): void {
    this.rejected.inc({ path, reason });
  }

  static toRows(deviceId: string, readings: readonly Reading[]): ReadingRow[] {
    const receivedAt = new Date();
    return readings.map((r) => ({ deviceId, seq: r.seq, ts: r.ts, receivedAt, metrics: r.metrics }));
  }

  private writeDirectly(tenant: TenantSlug, rows: ReadingRow[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const accepted = this.buffer.offer(tenant, rows, (error) => (error ? reject(error) : resolve()), {
        retry: false,
      });
      if (!accepted) {
        this.rejected.inc({ path: 'http', reason: 'busy' }, rows.length);
        reject(EdgeStoreException.busy());
      }
    });
  }

  private wakeRoomWaiters(): void {
    while (this.roomWaiters.length > 0 && this.buffer.hasRoomFor(this.roomWaiters[0]!.rows)) {
      this.roomWaiters.shift()!.resolve();
    }
  }
}
