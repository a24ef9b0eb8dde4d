import type { EntityManager } from 'typeorm';
import { DeviceCredentialEntity } from '../credentials/device-credential.entity.js';
import type { DeviceCredentialsDialect } from '../credentials/device-credentials.dialect.js';
import { MongoDeviceCredentialEntity } from './mongo.entities.js';
import { normalizeDeviceId, toBuffer } from './mongo.util.js';

type StoredCredential = Pick<
  MongoDeviceCredentialEntity,
  'deviceId' | 'tokenHash' | 'generation' | 'status' | 'updatedAt'
>;

/**
 * {@link DeviceCredentialsDialect} on MongoDB (see `mongo.entities.ts`): the `device_credentials`
 * collection, one document per device (unique index on `deviceId`); reads give back the same
 * `DeviceCredentialEntity` (token hash as a Buffer) as PostgreSQL.
 */
export const MongoDeviceCredentials: DeviceCredentialsDialect = {
  async find(db: EntityManager, deviceId: string): Promise<DeviceCredentialEntity | null> {
    const doc = await db.connection
      .getMongoRepository(MongoDeviceCredentialEntity)
      .createCursor({ deviceId: normalizeDeviceId(deviceId) })
      .project<StoredCredential>({ _id: 0, deviceId: 1, tokenHash: 1, generation: 1, status: 1, updatedAt: 1 })
      .limit(1)
      .next();
    if (!doc) return null;
    return Object.assign(new DeviceCredentialEntity(), {
      deviceId: doc.deviceId,
      tokenHash: toBuffer(doc.tokenHash),
      generation: doc.generation,
      status: doc.status,
      updatedAt: doc.updatedAt,
    });
  },

  /** Inserts or replaces the device's credential (like `save` on the primary key). */
  async save(db: EntityManager, credential: DeviceCredentialEntity): Promise<void> {
    await db.connection.getMongoRepository(MongoDeviceCredentialEntity).updateOne(
      { deviceId: normalizeDeviceId(credential.deviceId) },
      {
        $set: {
          tokenHash: credential.tokenHash,
          generation: credential.generation,
          status: credential.status,
          updatedAt: credential.updatedAt,
        },
      },
      { upsert: true },
    );
  },

  async generations(db: EntityManager): Promise<Array<{ deviceId: string; generation: number }>> {
    return db.connection
      .getMongoRepository(MongoDeviceCredentialEntity)
      .createCursor({})
      .project<{ deviceId: string; generation: number }>({ _id: 0, deviceId: 1, generation: 1 })
      .toArray();
  },
};
