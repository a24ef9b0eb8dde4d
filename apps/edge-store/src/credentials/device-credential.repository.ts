import { Injectable } from '@nestjs/common';
import { DataSourceRouter, DialectSeam } from '#polystore/data-router';
import { MongoDeviceCredentials } from '../mongodb/mongo-device-credentials.js';
import type { DeviceCredentialEntity } from './device-credential.entity.js';
import { PostgresDeviceCredentials, type DeviceCredentialsDialect } from './device-credentials.dialect.js';

/** The credentials' one seam between engines: PostgreSQL or MongoDB, by the tenant's placement. */
const CREDENTIALS = new DialectSeam<DeviceCredentialsDialect>('edge device credentials', {
  postgres: PostgresDeviceCredentials,
  mongodb: MongoDeviceCredentials,
});

/** Data access for the current tenant's device credentials, on whatever engine its placement is. */
@Injectable()
export class DeviceCredentialRepository {
  constructor(private readonly router: DataSourceRouter) {}

  find(deviceId: string): Promise<DeviceCredentialEntity | null> {
    return this.router.run((db) => CREDENTIALS.of(db).find(db, deviceId));
  }

  save(credential: DeviceCredentialEntity): Promise<void> {
    return this.router.run((db) => CREDENTIALS.of(db).save(db, credential));
  }

  /** Every device's current credential generation. */
  generations(): Promise<Array<{ deviceId: string; generation: number }>> {
    return this.router.run((db) => CREDENTIALS.of(db).generations(db));
  }
}
