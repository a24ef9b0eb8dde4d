import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MONGO_COLLECTIONS } from './mongo.entities.js';

/** NamespaceNotFound: dropping a collection that does not exist. */
const NAMESPACE_NOT_FOUND = 26;

/**
 * The MongoDB counterpart of `EdgeInit1764203000000`: the indexes that give the collections the
 * PostgreSQL tables' keys (collections are created by their first index). Idempotent:
 * `createIndex` with the same name and keys does nothing, which `migrateDatabase` relies on
 * (no lock on MongoDB).
 */
export class EdgeMongoInit1764203000000 implements MigrationInterface {
  name = 'EdgeMongoInit1764203000000';

  async up(q: QueryRunner): Promise<void> {
    const runner = q.connection.mongoManager.mongoQueryRunner;
    const { credentials, readings } = MONGO_COLLECTIONS;
    await runner.createCollectionIndex(credentials, { deviceId: 1 }, { unique: true, name: 'device_credentials_pkey' });
    // The primary key of `readings` on PostgreSQL: idempotent ingest upserts on it.
    await runner.createCollectionIndex(readings, { deviceId: 1, seq: 1 }, { unique: true, name: 'readings_pkey' });
    // Range queries by device and time; `seq` last so keyset paging on (ts, seq) reads the index in order.
    await runner.createCollectionIndex(readings, { deviceId: 1, ts: 1, seq: 1 }, { name: 'readings_device_ts_idx' });
    // Retention deletes by time.
    await runner.createCollectionIndex(readings, { ts: 1 }, { name: 'readings_ts_idx' });
  }

  async down(q: QueryRunner): Promise<void> {
    const client = q.connection.mongoManager.mongoQueryRunner.databaseConnection;
    const db = client.db(q.connection.driver.database);
    for (const name of [MONGO_COLLECTIONS.deadLetters, MONGO_COLLECTIONS.readings, MONGO_COLLECTIONS.credentials]) {
      await db.dropCollection(name).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== NAMESPACE_NOT_FOUND) throw error;
      });
    }
  }
}
