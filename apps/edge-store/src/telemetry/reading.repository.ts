import { Injectable } from '@nestjs/common';
import { DataSourceRouter, DialectSeam } from '#polystore/data-router';
import type {
  HourlyReadings,
  LastSeen,
  TelemetryBucket,
  TelemetryBucketRow,
  TelemetryPoint,
} from '#polystore/messaging';
import type { ReadingRow } from '../ingest/ingest-buffer.js';
import { MongoReadings } from '../mongodb/mongo-readings.js';
import { PostgresReadings } from './postgres-readings.js';
import type { ReadingsDialect } from './readings.dialect.js';

/** The readings' one seam between engines: PostgreSQL or MongoDB, by the tenant's placement. */
const READINGS = new DialectSeam<ReadingsDialect>('edge readings', {
  postgres: PostgresReadings,
  mongodb: MongoReadings,
});

/**
 * Data access for the current tenant's readings, on whatever engine its placement is: each method
 * is one unit of work handed to the engine's {@link ReadingsDialect} (`postgres-readings.ts`,
 * `mongodb/mongo-readings.ts`).
 */
@Injectable()
export class ReadingRepository {
  constructor(private readonly router: DataSourceRouter) {}

  /** Stores a batch once per `(device, seq)`, however often it is redelivered; returns rows inserted. */
  insertBatch(rows: readonly ReadingRow[]): Promise<number> {
    return this.router.run((db) => READINGS.of(db).insertBatch(db, rows));
  }

  /** Raw points of a device in `[from, to)`, by (ts, seq), after `after`. */
  points(
    deviceId: string,
    from: Date,
    to: Date,
    limit: number,
    after?: { ts: Date; seq: number },
  ): Promise<TelemetryPoint[]> {
    return this.router.run((db) => READINGS.of(db).points(db, deviceId, from, to, limit, after));
  }

  /** avg/min/max/count per metric per bucket, in `[from, to)`, at most `limit` rows. */
  buckets(
    deviceId: string,
    from: Date,
    to: Date,
    bucket: TelemetryBucket,
    limit: number,
  ): Promise<TelemetryBucketRow[]> {
    return this.router.run((db) => READINGS.of(db).buckets(db, deviceId, from, to, bucket, limit));
  }

  /** Readings per device per hour (UTC, by device time) in `[from, to)`, ordered by device, hour. */
  hourlyCounts(deviceIds: readonly string[], from: Date, to: Date): Promise<HourlyReadings[]> {
    return this.router.run((db) => READINGS.of(db).hourlyCounts(db, deviceIds, from, to));
  }

  /** The device time of each device's latest reading (devices without readings are left out). */
  lastSeen(deviceIds: readonly string[]): Promise<LastSeen[]> {
    return this.router.run((db) => READINGS.of(db).lastSeen(db, deviceIds));
  }

  /** Deletes every reading of the devices; returns how many. */
  async erase(deviceIds: readonly string[]): Promise<number> {
    if (deviceIds.length === 0) return 0;
    return this.router.run((db) => READINGS.of(db).erase(db, deviceIds));
  }

  /** Deletes at most `batch` readings older than `cutoff`; returns how many (0 when done). */
  deleteOlderThan(cutoff: Date, batch: number): Promise<number> {
    return this.router.run((db) => READINGS.of(db).deleteOlderThan(db, cutoff, batch));
  }
}
