/**
 * The edge store on MongoDB (`EDGE_SERVER_URL=mongodb://...`, or a tenant placed on a MongoDB
 * server): the same model as on PostgreSQL, through TypeORM's `mongodb` driver.
 *
 * - Supported: everything the edge store does with a tenant database: device credentials
 *   (token hashes as BSON binary), idempotent batch ingest (`bulkWrite` of upserts keyed by
 *   `{deviceId, seq}`, unordered), dead letters, raw points paged by `(ts, seq)`, per-minute and
 *   per-hour aggregates (`$dateTrunc`: MongoDB 5.0 or later), erasure, retention in batches,
 *   provisioning (migration = idempotent index creation) and tenant deletion (`dropDatabase`).
 * - Differences: readings, dead letters and credentials are collections (with an `_id` ObjectId;
 *   dead letters have no numeric id); uniqueness comes from unique indexes; migrations run
 *   without a lock or a transaction (see `migrateDatabase`), so each must be idempotent; every
 *   write is a single-document or bulk operation (no multi-document transaction); device ids are
 *   stored lowercase, as PostgreSQL's `uuid` type prints them; metric names sort by binary order.
 * - Tested only where a MongoDB exists: `apps/edge-store/test/edge-mongodb.int.spec.ts` runs
 *   against `MONGO_URL` or a `mongo:7` container (Docker) and is skipped, saying so, otherwise.
 *
 * The repositories pick these implementations through their dialect seam (`DialectSeam`:
 * `MongoReadings`, `MongoDeviceCredentials`), beside the PostgreSQL ones.
 */
import type { Binary, ObjectId } from 'mongodb';
import { Column, Entity, ObjectIdColumn } from 'typeorm';

/** Collection names: the same as the PostgreSQL tables. */
export const MONGO_COLLECTIONS = {
  credentials: 'device_credentials',
  readings: 'readings',
  deadLetters: 'dead_letters',
} as const;

/** A device's credential (see `DeviceCredentialEntity`); `deviceId` is unique. */
@Entity({ name: MONGO_COLLECTIONS.credentials })
export class MongoDeviceCredentialEntity {
  @ObjectIdColumn()
  _id!: ObjectId;

  @Column()
  deviceId!: string;

  /** SHA-256 of the current token: written as a Buffer, read back as BSON `Binary`. */
  @Column()
  tokenHash!: Buffer | Binary;

  @Column()
  generation!: number;

  @Column()
  status!: 'active' | 'revoked';

  @Column()
  updatedAt!: Date;
}

/** One reading of one device; `{deviceId, seq}` is unique, so redelivery never duplicates. */
@Entity({ name: MONGO_COLLECTIONS.readings })
export class MongoReadingEntity {
  @ObjectIdColumn()
  _id!: ObjectId;

  @Column()
  deviceId!: string;

  @Column()
  seq!: number;

  /** Device time. */
  @Column()
  ts!: Date;

  /** When the edge store received it. */
  @Column()
  receivedAt!: Date;

  @Column()
  metrics!: Record<string, number>;
}

/** A message that could not be stored as readings, kept with the reason. */
@Entity({ name: MONGO_COLLECTIONS.deadLetters })
export class MongoDeadLetterEntity {
  @ObjectIdColumn()
  _id!: ObjectId;

  @Column()
  deviceId!: string | null;

  @Column()
  reason!: string;

  /** The message as received, truncated to 64 KB. */
  @Column()
  payload!: Buffer | Binary;

  @Column()
  receivedAt!: Date;
}
