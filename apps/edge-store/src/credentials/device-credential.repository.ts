import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import { DeviceCredentialEntity } from './device-credential.entity.js';

/** Data access for the current tenant's device credentials. */
@Injectable()
export class DeviceCredentialRepository {
  constructor(private readonly router: DataSourceRouter) {}

  find(deviceId: string): Promise<DeviceCredentialEntity | null> {
    return this.router.run((ds) => ds.getRepository(DeviceCredentialEntity).findOneBy({ deviceId }));
  }

  async save(credential: DeviceCredentialEntity): Promise<void> {
    await this.router.run((ds) => ds.getRepository(DeviceCredentialEntity).save(credential));
  }
}
