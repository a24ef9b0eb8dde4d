import { Controller } from '@nestjs/common';
import { Contracts, Handles, type ResponseOf } from '#polystore/messaging';
import { TenantDatabaseProvisioner } from '#polystore/runtime';

const T = Contracts.edge.tenants;

/** NATS handlers that create and drop a tenant's edge database. */
@Controller()
export class TenantProvisioningHandler {
  constructor(private readonly databases: TenantDatabaseProvisioner) {}

  @Handles(T.provision)
  provision(): Promise<ResponseOf<typeof T.provision>> {
    return this.databases.provision();
  }

  @Handles(T.drop)
  drop(): Promise<ResponseOf<typeof T.drop>> {
    return this.databases.drop();
  }
}
