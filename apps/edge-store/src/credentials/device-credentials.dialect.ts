import type { EntityManager } from 'typeorm';
import { DeviceCredentialEntity } from './device-credential.entity.js';

/**
 * Device credentials on one engine (`PostgresDeviceCredentials`, `MongoDeviceCredentials`): one
 * credential per device, read back as the same {@link DeviceCredentialEntity} everywhere.
 */
export interface DeviceCredentialsDialect {
  find(db: EntityManager, deviceId: string): Promise<DeviceCredentialEntity | null>;
  /** Inserts or replaces the device's credential. */
  save(db: EntityManager, credential: DeviceCredentialEntity): Promise<void>;
  /** Every device's current generation (revoked or not): what a tenant's deletion revokes at the broker. */
  generations(db: EntityManager): Promise<Array<{ deviceId: string; generation: number }>>;
}

/** {@link DeviceCredentialsDialect} on PostgreSQL: the `device_credentials` table, keyed by device. */
export const PostgresDeviceCredentials: DeviceCredentialsDialect = {
  find: (db, deviceId) => db.getRepository(DeviceCredentialEntity).findOneBy({ deviceId }),
  async save(db, credential) {
    await db.getRepository(DeviceCredentialEntity).save(credential);
  },
  generations: (db) => db.getRepository(DeviceCredentialEntity).find({ select: { deviceId: true, generation: true } }),
};
