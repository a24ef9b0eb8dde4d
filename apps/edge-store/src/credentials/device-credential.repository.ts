import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import { MongoDeviceCredentials } from '../mongodb/mongo-device-credentials.js';
import { isMongo } from '../mongodb/mongo.util.js';
import { DeviceCredentialEntity } from './device-credential.entity.js';

/** Data access for the current tenant's device credentials (PostgreSQL, or MongoDB via `mongodb/`). */
@Injectable()
export class DeviceCredentialRepository {
  constructor(private readonly router: DataSourceRouter) {}

  find(deviceId: string): Promise<DeviceCredentialEntity | null> {
    return this.router.run((db) =>
      isMongo(db)
        ? MongoDeviceCredentials.find(db.connection, deviceId)
        : db.getRepository(DeviceCredentialEntity).findOneBy({ deviceId }),
    );
  }

  async save(credential: DeviceCredentialEntity): Promise<void> {
    await this.router.run<unknown>((db) =>
      isMongo(db)
        ? MongoDeviceCredentials.save(db.connection, credential)
        : db.getRepository(DeviceCredentialEntity).save(credential),
    );
  }
}
