import { Controller, Inject, type Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { DataSourceRouter } from '#polystore/data-router';
import { Handles, type Contract, type TenantUsageView } from '#polystore/messaging';
import { measureTenantUsage } from './tenant-usage.js';

/**
 * The NATS handler of a store's `<store>.tenants.usage` (the gateway's quotas): what the current
 * tenant's data takes in the store, see {@link measureTenantUsage}. {@link TenantDataModule}
 * registers it for every store, so a store gets it by declaring its tenant data.
 */
export function tenantUsageHandler(contract: Contract): Type<unknown> {
  @Controller()
  class TenantUsageHandler {
    constructor(@Inject(DataSourceRouter) private readonly router: DataSourceRouter) {}

    @Handles(contract)
    usage(@Payload() request: { count: string[]; migration?: boolean }): Promise<TenantUsageView> {
      return measureTenantUsage(this.router, request.count, request.migration === true);
    }
  }
  return TenantUsageHandler;
}
