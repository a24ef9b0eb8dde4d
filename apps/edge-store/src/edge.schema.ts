import type { Dialect, StoreSchema } from '#polystore/data-router';
import { IdempotencyKeyEntity } from '#polystore/idempotency';
import { DeviceCredentialEntity } from './credentials/device-credential.entity.js';
import { EdgeInit1764203000000 } from './migrations/1764203000000-edge-init.js';
import { EdgeSaga1764204300000 } from './migrations/1764204300000-edge-saga.js';
import { EdgeStepKeys1764209500000 } from './migrations/1764209500000-edge-step-keys.js';
import { EdgeMongoInit1764203000000 } from './mongodb/mongo-init.migration.js';
import { MongoDeadLetterEntity, MongoDeviceCredentialEntity, MongoReadingEntity } from './mongodb/mongo.entities.js';
import { DeadLetterEntity, ReadingEntity } from './telemetry/reading.entity.js';

/** Entities and migrations of a tenant's edge database on PostgreSQL. */
export const EDGE_POSTGRES_SCHEMA: StoreSchema = {
  entities: [DeviceCredentialEntity, ReadingEntity, DeadLetterEntity, IdempotencyKeyEntity],
  migrations: [EdgeInit1764203000000, EdgeSaga1764204300000, EdgeStepKeys1764209500000],
  migrationsTableName: 'edge_migrations',
};

/**
 * The same model on MongoDB: collections with `_id`, indexes created by the migration. Saga
 * steps (device provisioning by the registration saga) need the SQL participant fence, so a
 * tenant whose edge database is on MongoDB gets its devices through `edge.devices.provision`.
 */
export const EDGE_MONGO_SCHEMA: StoreSchema = {
  entities: [MongoDeviceCredentialEntity, MongoReadingEntity, MongoDeadLetterEntity],
  migrations: [EdgeMongoInit1764203000000],
  migrationsTableName: 'edge_migrations',
};

/** The edge schema for a server's dialect: MongoDB, or PostgreSQL for every SQL server. */
export function edgeSchema(dialect: Dialect): StoreSchema {
  return dialect === 'mongodb' ? EDGE_MONGO_SCHEMA : EDGE_POSTGRES_SCHEMA;
}
