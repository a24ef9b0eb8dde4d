import { Controller } from '@nestjs/common';
import { Contracts, Handles, type ResponseOf } from '#polystore/messaging';
import { TenantProvisioningService } from './tenant-provisioning.service.js';

const T = Contracts.secure.tenants;

/** NATS handlers that create and drop a tenant's secure database. */
@Controller()
export class TenantProvisioningHandler {
  constructor(private readonly provisioning: TenantProvisioningService) {}

  @Handles(T.provision)
  provision(): Promise<ResponseOf<typeof T.provision>> {
    return this.provisioning.provision();
  }

  @Handles(T.drop)
  drop(): Promise<ResponseOf<typeof T.drop>> {
    return this.provisioning.drop();
  }
}
