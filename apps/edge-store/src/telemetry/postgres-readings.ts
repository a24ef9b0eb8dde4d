import type { EntityManager } from 'typeorm';
import type {
  HourlyReadings,
  LastSeen,
  TelemetryBucket,
  TelemetryBucketRow,
  TelemetryPoint,
} from '#polystore/messaging';
import type { ReadingRow } from '../ingest/ingest-buffer.js';
import type { ReadingsDialect } from './readings.dialect.js';

const BUCKET_INTERVAL: Record<TelemetryBucket, string> = { '1m': '1 minute', '1h': '1 hour' };

/** The rows a PostgreSQL `DELETE` or `INSERT` affected, as TypeORM returns them. */
function affected(result: unknown, fallback: number): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : fallback;
}

/** {@link ReadingsDialect} on PostgreSQL: the `readings` table (unique on `(device_id, seq)`) and `dead_letters`. */
export const PostgresReadings: ReadingsDialect = {
  /**
   * One statement: five arrays unnested, `ON CONFLICT DO NOTHING` on `(device_id, seq)`, so a
   * redelivered or retried reading is stored once.
   */
  async insertBatch(db: EntityManager, rows: readonly ReadingRow[]): Promise<number> {
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
    return affected(result, rows.length);
  },

  async points(
    db: EntityManager,
    deviceId: string,
    from: Date,
    to: Date,
    limit: number,
    after?: { ts: Date; seq: number },
  ): Promise<TelemetryPoint[]> {
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
  },

  async buckets(
    db: EntityManager,
    deviceId: string,
    from: Date,
    to: Date,
    bucket: TelemetryBucket,
    limit: number,
  ): Promise<TelemetryBucketRow[]> {
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
  },

  /** One aggregate over the `(device_id, ts)` index: one range scan per device. */
  async hourlyCounts(db: EntityManager, deviceIds: readonly string[], from: Date, to: Date): Promise<HourlyReadings[]> {
    const rows: Array<{ device_id: string; hour: Date; readings: string }> = await db.query(
      `SELECT device_id, date_trunc('hour', ts, 'UTC') AS hour, count(*) AS readings
       FROM readings
       WHERE device_id = ANY($1::uuid[]) AND ts >= $2 AND ts < $3
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [deviceIds, from, to],
    );
    return rows.map((r) => ({ deviceId: r.device_id, hour: r.hour.toISOString(), readings: Number(r.readings) }));
  },

  /** Per device, the last entry of the `(device_id, ts)` index: the cost does not grow with the readings kept. */
  async lastSeen(db: EntityManager, deviceIds: readonly string[]): Promise<LastSeen[]> {
    const rows: Array<{ device_id: string; last_at: Date }> = await db.query(
      `SELECT d.id AS device_id, last.ts AS last_at
       FROM unnest($1::uuid[]) AS d(id)
       CROSS JOIN LATERAL (SELECT r.ts FROM readings r WHERE r.device_id = d.id ORDER BY r.ts DESC LIMIT 1) last
       ORDER BY 1`,
      [deviceIds],
    );
    return rows.map((r) => ({ deviceId: r.device_id, lastAt: r.last_at.toISOString() }));
  },

  async erase(db: EntityManager, deviceIds: readonly string[]): Promise<number> {
    return affected(await db.query('DELETE FROM readings WHERE device_id = ANY($1::uuid[])', [deviceIds]), 0);
  },

  async deleteOlderThan(db: EntityManager, cutoff: Date, batch: number): Promise<number> {
    return affected(
      await db.query('DELETE FROM readings WHERE ctid IN (SELECT ctid FROM readings WHERE ts < $1 LIMIT $2)', [
        cutoff,
        batch,
      ]),
      0,
    );
  },
};
