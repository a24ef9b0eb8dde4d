import { describe, expect, it } from '@jest/globals';
import { resolveStoreSchema } from '#polystore/data-router';
import { IdempotencyKeyEntity } from '#polystore/idempotency';
import { Binary } from 'mongodb';
import { DataSource } from 'typeorm';
import { DeviceCredentialEntity } from '../src/credentials/device-credential.entity.js';
import { EDGE_MONGO_SCHEMA, EDGE_POSTGRES_SCHEMA, edgeSchema } from '../src/edge.schema.js';
import { EdgeInit1764203000000 } from '../src/migrations/1764203000000-edge-init.js';
import { EdgeSaga1764204300000 } from '../src/migrations/1764204300000-edge-saga.js';
import { EdgeStepKeys1764209500000 } from '../src/migrations/1764209500000-edge-step-keys.js';
import { EdgeMongoInit1764203000000 } from '../src/mongodb/mongo-init.migration.js';
import {
  MongoDeadLetterEntity,
  MongoDeviceCredentialEntity,
  MongoReadingEntity,
} from '../src/mongodb/mongo.entities.js';
import { normalizeDeviceId, toBuffer } from '../src/mongodb/mongo.util.js';
import { DeadLetterEntity, ReadingEntity } from '../src/telemetry/reading.entity.js';

describe('edge schema per dialect', () => {
  it('edge-schema - MongoDB gets the ObjectId entities and the index migration', () => {
    const schema = edgeSchema('mongodb');
    expect(schema).toBe(EDGE_MONGO_SCHEMA);
    expect(schema.entities).toEqual([MongoDeviceCredentialEntity, MongoReadingEntity, MongoDeadLetterEntity]);
    expect(schema.migrations).toEqual([EdgeMongoInit1764203000000]);
    expect(schema.migrationsTableName).toBe('edge_migrations');
  });

  it('edge-schema - TypeORM accepts the MongoDB entities (metadata built and validated, no server)', async () => {
    const ds = new DataSource({ type: 'mongodb', host: '127.0.0.1', database: 'ps_edge_x', ...EDGE_MONGO_SCHEMA });
    // What initialize() does before connecting; a missing @ObjectIdColumn or a bad column fails here.
    await (ds as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
    expect(ds.getMetadata(MongoReadingEntity).tableName).toBe('readings');
    expect(ds.getMetadata(MongoDeviceCredentialEntity).tableName).toBe('device_credentials');
    expect(ds.getMetadata(MongoDeadLetterEntity).tableName).toBe('dead_letters');
    expect(ds.getMetadata(MongoReadingEntity).objectIdColumn?.propertyName).toBe('_id');
    expect(ds.getMetadata(MongoReadingEntity).columns.map((c) => c.databaseName)).toEqual(
      expect.arrayContaining(['deviceId', 'seq', 'ts', 'receivedAt', 'metrics']),
    );
  });

  it('edge-schema - SQL servers get the PostgreSQL entities and migration', () => {
    for (const dialect of ['postgres', 'mysql', 'mariadb'] as const) {
      const schema = resolveStoreSchema(edgeSchema, dialect);
      expect(schema).toBe(EDGE_POSTGRES_SCHEMA);
      expect(schema.entities).toEqual([DeviceCredentialEntity, ReadingEntity, DeadLetterEntity, IdempotencyKeyEntity]);
      expect(schema.migrations).toEqual([EdgeInit1764203000000, EdgeSaga1764204300000, EdgeStepKeys1764209500000]);
    }
  });

  it('edge-schema - bytes read back from MongoDB become Buffers; device ids compare like uuid', () => {
    const bytes = Buffer.from([1, 2, 3, 250]);
    expect(toBuffer(new Binary(bytes)).equals(bytes)).toBe(true);
    expect(toBuffer(bytes)).toBe(bytes);
    expect(toBuffer(new Uint8Array([9, 8])).equals(Buffer.from([9, 8]))).toBe(true);
    expect(normalizeDeviceId('0F8FAD5B-D9CB-469F-A165-70867728950E')).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
  });
});
