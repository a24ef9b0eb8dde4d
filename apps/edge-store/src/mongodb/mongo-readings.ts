import type {
  HourlyReadings,
  LastSeen,
  TelemetryBucket,
  TelemetryBucketRow,
  TelemetryPoint,
} from '#polystore/messaging';
import type { EntityManager } from 'typeorm';
import type { ReadingRow } from '../ingest/ingest-buffer.js';
import type { ReadingsDialect } from '../telemetry/readings.dialect.js';
import { MongoReadingEntity } from './mongo.entities.js';
import { normalizeDeviceId } from './mongo.util.js';

/** `$dateTrunc` units of the buckets (UTC, like `date_bin` from the epoch on PostgreSQL). */
const BUCKET_UNIT: Record<TelemetryBucket, 'minute' | 'hour'> = { '1m': 'minute', '1h': 'hour' };

/** E11000: a concurrent writer inserted the same `{deviceId, seq}` first. */
const DUPLICATE_KEY = 11000;

/**
 * {@link ReadingsDialect} on MongoDB (see `mongo.entities.ts`): same inputs, same results as the
 * SQL statements, on the `readings` and `dead_letters` collections.
 */
export const MongoReadings: ReadingsDialect = {
  /**
   * One unordered `bulkWrite` of upserts on `{deviceId, seq}` that only set fields on insert, so
   * a redelivered or retried reading is stored once. Returns the readings inserted.
   */
  async insertBatch(db: EntityManager, rows: readonly ReadingRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const operations = rows.map((r) => ({
      updateOne: {
        filter: { deviceId: normalizeDeviceId(r.deviceId), seq: r.seq },
        update: { $setOnInsert: { ts: r.ts, receivedAt: r.receivedAt, metrics: r.metrics } },
        upsert: true,
      },
    }));
    try {
      const result = await db.connection
        .getMongoRepository(MongoReadingEntity)
        .bulkWrite(operations, { ordered: false });
      return result.upsertedCount;
    } catch (error) {
      // Two writers racing on one new key: the loser's upsert fails with E11000 (the server
      // usually retries it itself). Those readings are stored; everything else in the batch ran.
      const inserted = upsertedDespiteDuplicates(error);
      if (inserted === undefined) throw error;
      return inserted;
    }
  },

  /** Raw points of a device in `[from, to)`, by (ts, seq), after `after`. */
  async points(
    db: EntityManager,
    deviceId: string,
    from: Date,
    to: Date,
    limit: number,
    after?: { ts: Date; seq: number },
  ): Promise<TelemetryPoint[]> {
    // Keyset `(ts, seq) > after`: the range starts at `after.ts` (so the index scan does too) and
    // only the readings tied on `after.ts` need `seq > after.seq`.
    const lower = after && after.ts > from ? after.ts : from;
    const docs = await db.connection
      .getMongoRepository(MongoReadingEntity)
      .createCursor({
        deviceId: normalizeDeviceId(deviceId),
        ts: { $gte: lower, $lt: to },
        ...(after ? { $or: [{ ts: { $gt: after.ts } }, { seq: { $gt: after.seq } }] } : {}),
      })
      .project<Pick<MongoReadingEntity, 'seq' | 'ts' | 'receivedAt' | 'metrics'>>({
        _id: 0,
        seq: 1,
        ts: 1,
        receivedAt: 1,
        metrics: 1,
      })
      .sort({ ts: 1, seq: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => ({
      seq: Number(d.seq),
      ts: d.ts.toISOString(),
      receivedAt: d.receivedAt.toISOString(),
      metrics: d.metrics,
    }));
  },

  /** avg/min/max/count per metric per bucket, in `[from, to)`, at most `limit` rows. */
  async buckets(
    db: EntityManager,
    deviceId: string,
    from: Date,
    to: Date,
    bucket: TelemetryBucket,
    limit: number,
  ): Promise<TelemetryBucketRow[]> {
    const rows = await db.connection
      .getMongoRepository(MongoReadingEntity)
      .aggregate<{ _id: { start: Date; metric: string }; avg: number; min: number; max: number; count: number }>([
        { $match: { deviceId: normalizeDeviceId(deviceId), ts: { $gte: from, $lt: to } } },
        { $project: { _id: 0, ts: 1, metric: { $objectToArray: '$metrics' } } },
        { $unwind: '$metric' },
        {
          $group: {
            _id: { start: { $dateTrunc: { date: '$ts', unit: BUCKET_UNIT[bucket] } }, metric: '$metric.k' },
            avg: { $avg: '$metric.v' },
            min: { $min: '$metric.v' },
            max: { $max: '$metric.v' },
            count: { $sum: 1 },
          },
        },
        { $sort: { '_id.start': 1, '_id.metric': 1 } },
        { $limit: limit },
      ])
      .toArray();
    return rows.map((r) => ({
      start: r._id.start.toISOString(),
      metric: r._id.metric,
      avg: r.avg,
      min: r.min,
      max: r.max,
      count: Number(r.count),
    }));
  },

  /** Readings per device per hour (UTC, by device time) in `[from, to)`, ordered by device, hour. */
  async hourlyCounts(db: EntityManager, deviceIds: readonly string[], from: Date, to: Date): Promise<HourlyReadings[]> {
    const rows = await db.connection
      .getMongoRepository(MongoReadingEntity)
      .aggregate<{ _id: { deviceId: string; hour: Date }; readings: number }>([
        { $match: { deviceId: { $in: deviceIds.map(normalizeDeviceId) }, ts: { $gte: from, $lt: to } } },
        {
          $group: {
            _id: { deviceId: '$deviceId', hour: { $dateTrunc: { date: '$ts', unit: 'hour' } } },
            readings: { $sum: 1 },
          },
        },
        { $sort: { '_id.deviceId': 1, '_id.hour': 1 } },
      ])
      .toArray();
    return rows.map((r) => ({
      deviceId: r._id.deviceId,
      hour: r._id.hour.toISOString(),
      readings: Number(r.readings),
    }));
  },

  /**
   * The device time of each device's latest reading (devices without readings are left out).
   * Sorted in the order of `readings_device_ts_idx` read backwards and grouped with `$first`, the
   * shape MongoDB can answer with one index seek per device (DISTINCT_SCAN) instead of reading
   * every reading of the devices.
   */
  async lastSeen(db: EntityManager, deviceIds: readonly string[]): Promise<LastSeen[]> {
    const rows = await db.connection
      .getMongoRepository(MongoReadingEntity)
      .aggregate<{ _id: string; lastAt: Date }>([
        { $match: { deviceId: { $in: deviceIds.map(normalizeDeviceId) } } },
        { $sort: { deviceId: -1, ts: -1 } },
        { $group: { _id: '$deviceId', lastAt: { $first: '$ts' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    return rows.map((r) => ({ deviceId: r._id, lastAt: r.lastAt.toISOString() }));
  },

  /** Deletes every reading of the devices; returns how many. */
  async erase(db: EntityManager, deviceIds: readonly string[]): Promise<number> {
    const { deletedCount } = await db.connection
      .getMongoRepository(MongoReadingEntity)
      .deleteMany({ deviceId: { $in: deviceIds.map(normalizeDeviceId) } });
    return deletedCount;
  },

  /** Deletes at most `batch` readings older than `cutoff` (their `_id`s first, then those); returns how many. */
  async deleteOlderThan(db: EntityManager, cutoff: Date, batch: number): Promise<number> {
    const repository = db.connection.getMongoRepository(MongoReadingEntity);
    const victims = await repository
      .createCursor({ ts: { $lt: cutoff } })
      .project<Pick<MongoReadingEntity, '_id'>>({ _id: 1 })
      .limit(batch)
      .toArray();
    if (victims.length === 0) return 0;
    const { deletedCount } = await repository.deleteMany({ _id: { $in: victims.map((v) => v._id) } });
    return deletedCount;
  },
};

/**
 * For a `MongoBulkWriteError` whose every write error is a duplicate key: the readings upserted
 * by the rest of the batch. `undefined` for any other error.
 */
function upsertedDespiteDuplicates(error: unknown): number | undefined {
  const failure = error as { name?: unknown; writeErrors?: unknown; result?: { upsertedCount?: unknown } };
  if (failure?.name !== 'MongoBulkWriteError') return undefined;
  const writeErrors: unknown[] = Array.isArray(failure.writeErrors) ? failure.writeErrors : [failure.writeErrors];
  if (!writeErrors.every((e) => (e as { code?: unknown } | undefined)?.code === DUPLICATE_KEY)) return undefined;
  return typeof failure.result?.upsertedCount === 'number' ? failure.result.upsertedCount : undefined;
}
