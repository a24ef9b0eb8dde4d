import type {
  HourlyReadings,
  LastSeen,
  TelemetryBucket,
  TelemetryBucketRow,
  TelemetryPoint,
} from '#polystore/messaging';
import type { EntityManager } from 'typeorm';
import type { ReadingRow } from '../ingest/ingest-buffer.js';

/**
 * The edge store's readings on one engine: what `ReadingRepository` asks of each dialect
 * (`PostgresReadings`, `MongoReadings`), every method on the unit of work's `db`, with the same
 * results on every engine (the e2e and MongoDB suites compare them).
 */
export interface ReadingsDialect {
  /** Stores a batch; a reading already stored (same device and seq) is skipped. Returns readings inserted. */
  insertBatch(db: EntityManager, rows: readonly ReadingRow[]): Promise<number>;
  /** Raw points of a device in `[from, to)`, by (ts, seq), after `after`. */
  points(
    db: EntityManager,
    deviceId: string,
    from: Date,
    to: Date,
    limit: number,
    after?: { ts: Date; seq: number },
  ): Promise<TelemetryPoint[]>;
  /** avg/min/max/count per metric per bucket (UTC, from the epoch), in `[from, to)`, at most `limit` rows. */
  buckets(
    db: EntityManager,
    deviceId: string,
    from: Date,
    to: Date,
    bucket: TelemetryBucket,
    limit: number,
  ): Promise<TelemetryBucketRow[]>;
  /** Readings per device per hour (UTC, by device time) in `[from, to)`, ordered by device, hour. */
  hourlyCounts(db: EntityManager, deviceIds: readonly string[], from: Date, to: Date): Promise<HourlyReadings[]>;
  /** The device time of each device's latest reading (devices without readings are left out). */
  lastSeen(db: EntityManager, deviceIds: readonly string[]): Promise<LastSeen[]>;
  /** Deletes every reading of the devices; returns how many. */
  erase(db: EntityManager, deviceIds: readonly string[]): Promise<number>;
  /** Deletes at most `batch` readings older than `cutoff`; returns how many (0 when done). */
  deleteOlderThan(db: EntityManager, cutoff: Date, batch: number): Promise<number>;
}
