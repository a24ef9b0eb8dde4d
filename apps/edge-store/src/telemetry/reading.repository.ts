import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import type {
  HourlyReadings,
  LastSeen,
  TelemetryBucket,
  TelemetryBucketRow,
  TelemetryPoint,
} from '#polystore/messaging';
import type { ReadingRow } from '../ingest/ingest-buffer.js';
import { MongoReadings } from '../mongodb/mongo-readings.js';
import { isMongo } from '../mongodb/mongo.util.js';
import { DeadLetterEntity } from './reading.entity.js';

const BUCKET_INTERVAL: Record<TelemetryBucket, string> = { '1m': '1 minute', '1h': '1 hour' };

/**
 * Data access for the current tenant's readings: SQL on PostgreSQL; on a MongoDB placement each
 * method hands its DataSource to {@link MongoReadings} (same results, see `mongodb/`).
 */
@Injectable()
export class ReadingRepository {
  constructor(private readonly router: DataSourceRouter) {}

  /**
   * Writes a batch in one statement: five arrays unnested, `ON CONFLICT DO NOTHING` on
   * `(device_id, seq)`, so a redelivered or retried reading is stored once. Returns rows inserted.
   */
  insertBatch(rows: readonly ReadingRow[]): Promise<number> {
    return this.router.run(async (db) => {
      if (isMongo(db)) return MongoReadings.insertBatch(db.connection, rows);
      const result: unknown = await db.query(
        `INSERT INTO readings (device_id, seq, ts, received_at, metrics)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::jsonb[])
         ON CONFLICT (device_id, seq) DO NOTHING`,
        [
          rows.map((r) => r.deviceId),
          rows.map((r) => r.seq),
          rows.map((r) => r.ts),
          rows.map((r) => r.receivedAt),
          rows.map((r) => JSON.stringify(r.metrics)),
        ],
      );
      return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : rows.length;
    });
  }

  async insertDeadLetter(deviceId: string | null, reason: string, payload: Buffer): Promise<void> {
    await this.router.run<unknown>((db) => {
      const letter = {
        deviceId,
        reason: reason.slice(0, 500),
        payload: payload.subarray(0, 64 * 1024),
        receivedAt: new Date(),
      };
      return isMongo(db)
        ? MongoReadings.insertDeadLetter(db.connection, letter)
        : db.getRepository(DeadLetterEntity).insert(letter);
    });
  }

  /** Raw points of a device in `[from, to)`, by (ts, seq), after `after`. */
  points(
    deviceId: string,
    from: Date,
    to: Date,
    limit: number,
    after?: { ts: Date; seq: number },
  ): Promise<TelemetryPoint[]> {
    return this.router.run(async (db) => {
      if (isMongo(db)) return MongoReadings.points(db.connection, deviceId, from, to, limit, after);
      const rows: Array<{ seq: string; ts: Date; received_at: Date; metrics: Record<string, number> }> = await (after
        ? db.query(
            `SELECT seq, ts, received_at, metrics FROM readings
             WHERE device_id = $1 AND ts >= $2 AND ts < $3 AND (ts, seq) > ($4, $5)
             ORDER BY ts, seq LIMIT $6`,
            [deviceId, from, to, after.ts, after.seq, limit],
          )
        : db.query(
            `SELECT seq, ts, received_at, metrics FROM readings
             WHERE device_id = $1 AND ts >= $2 AND ts < $3
             ORDER BY ts, seq LIMIT $4`,
            [deviceId, from, to, limit],
          ));
      return rows.map((r) => ({
        seq: Number(r.seq),
        ts: r.ts.toISOString(),
        receivedAt: r.received_at.toISOString(),
        metrics: r.metrics,
      }));
    });
  }

  /** avg/min/max/count per metric per bucket, in `[from, to)`, at most `limit` rows. */
  buckets(
    deviceId: string,
    from: Date,
    to: Date,
    bucket: TelemetryBucket,
    limit: number,
  ): Promise<TelemetryBucketRow[]> {
    return this.router.run(async (db) => {
      if (isMongo(db)) return MongoReadings.buckets(db.connection, deviceId, from, to, bucket, limit);
      const rows: Array<{ start: Date; metric: string; avg: number; min: number; max: number; count: string }> =
        await db.query(
          `SELECT date_bin($4::interval, r.ts, TIMESTAMPTZ 'epoch') AS start, m.key AS metric,
                avg(m.value::float8) AS avg, min(m.value::float8) AS min, max(m.value::float8) AS max, count(*) AS count
         FROM readings r CROSS JOIN LATERAL jsonb_each_text(r.metrics) m
         WHERE r.device_id = $1 AND r.ts >= $2 AND r.ts < $3
         GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $5`,
          [deviceId, from, to, BUCKET_INTERVAL[bucket], limit],
        );
      return rows.map((r) => ({
        start: r.start.toISOString(),
        metric: r.metric,
        avg: r.avg,
        min: r.min,
        max: r.max,
        count: Number(r.count),
      }));
    });
  }

  /**
   * Readings per device per hour (UTC, by device time) in `[from, to)`, ordered by device, hour.
   * One aggregate over the `(device_id, ts)` index: one range scan per device.
   */
  hourlyCounts(deviceIds: readonly string[], from: Date, to: Date): Promise<HourlyReadings[]> {
    return this.router.run(async (db) => {
      if (isMongo(db)) return MongoReadings.hourlyCounts(db.connection, deviceIds, from, to);
      const rows: Array<{ device_id: string; hour: Date; readings: string }> = await db.query(
        `SELECT device_id, date_trunc('hour', ts, 'UTC') AS hour, count(*) AS readings
         FROM readings
         WHERE device_id = ANY($1::uuid[]) AND ts >= $2 AND ts < $3
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [deviceIds, from, to],
      );
      return rows.map((r) => ({ deviceId: r.device_id, hour: r.hour.toISOString(), readings: Number(r.readings) }));
    });
  }

  /**
   * The device time of each device's latest reading (devices without readings are left out):
   * per device, the last entry of the `(device_id, ts)` index, so the cost does not grow with
   * the readings kept.
   */
  lastSeen(deviceIds: readonly string[]): Promise<LastSeen[]> {
    return this.router.run(async (db) => {
      if (isMongo(db)) return MongoReadings.lastSeen(db.connection, deviceIds);
      const rows: Array<{ device_id: string; last_at: Date }> = await db.query(
        `SELECT d.id AS device_id, last.ts AS last_at
         FROM unnest($1::uuid[]) AS d(id)
         CROSS JOIN LATERAL (SELECT r.ts FROM readings r WHERE r.device_id = d.id ORDER BY r.ts DESC LIMIT 1) last
         ORDER BY 1`,
        [deviceIds],
      );
      return rows.map((r) => ({ deviceId: r.device_id, lastAt: r.last_at.toISOString() }));
    });
  }

  /** Deletes every reading of the devices; returns how many. */
  async erase(deviceIds: readonly string[]): Promise<number> {
    if (deviceIds.length === 0) return 0;
    return this.router.run(async (db) => {
      if (isMongo(db)) return MongoReadings.erase(db.connection, deviceIds);
      const result: unknown = await db.query('DELETE FROM readings WHERE device_id = ANY($1::uuid[])', [deviceIds]);
      return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
    });
  }

  /** Deletes at most `batch` readings older than `cutoff`; returns how many (0 when done). */
  deleteOlderThan(cutoff: Date, batch: number): Promise<number> {
    return this.router.run(async (db) => {
      if (isMongo(db)) return MongoReadings.deleteOlderThan(db.connection, cutoff, batch);
      const result: unknown = await db.query(
        'DELETE FROM readings WHERE ctid IN (SELECT ctid FROM readings WHERE ts < $1 LIMIT $2)',
        [cutoff, batch],
      );
      return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
    });
  }
}
