import { Controller } from '@nestjs/common';
import { Contracts, Handles, type ResponseOf } from '#polystore/messaging';
import { TenantDatabaseProvisioner } from '#polystore/runtime';
import { DeviceCredentialsService } from '../credentials/device-credentials.service.js';

const T = Contracts.edge.tenants;

/** NATS handlers that create and drop a tenant's edge database (and revoke its devices). */
@Controller()
export class TenantProvisioningHandler {
  constructor(
    private readonly databases: TenantDatabaseProvisioner,
    private readonly credentials: DeviceCredentialsService,
  ) {}

  @Handles(T.provision)
  provision(): Promise<ResponseOf<typeof T.provision>> {
    return this.databases.provision();
  }

  /** Every device credential of the tenant is revoked at the broker before its data goes. */
  /** A tenant deleted with a grace period: its devices are refused from now on, its data kept. */
  @Handles(T.revokeDevices)
  async revokeDevices(): Promise<ResponseOf<typeof T.revokeDevices>> {
    return { revoked: await this.credentials.revokeTenant() };
  }

  @Handles(T.drop)
  async drop(): Promise<ResponseOf<typeof T.drop>> {
    await this.credentials.revokeTenant().catch((error: unknown) => {
      if (!alreadyGone(error)) throw error;
    });
    return this.databases.drop();
  }
}

/** A retried drop finds nothing left to revoke: no placement, or no schema/table any more. */
function alreadyGone(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return (
    code === 'PLACEMENT_NOT_FOUND' ||
    code === 'TENANT_NOT_FOUND' ||
    code === '42P01' || // undefined table
    code === '3F000' || // undefined schema
    code === '3D000' // undefined database
  );
}
