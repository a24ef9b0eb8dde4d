import { Injectable } from '@nestjs/common';
import { TenantDatabaseProvisioner } from '#polystore/runtime';
import { RequestContextStore } from '#polystore/tenancy';
import { AuditCheckpointer } from '../audit/audit-checkpointer.service.js';
import { TenantKeyring } from '../crypto/tenant-keyring.service.js';

/** The secure database of a tenant: the common provisioning plus the tenant's data key. */
@Injectable()
export class TenantProvisioningService {
  constructor(
    private readonly databases: TenantDatabaseProvisioner,
    private readonly keyring: TenantKeyring,
    private readonly checkpointer: AuditCheckpointer,
  ) {}

  async provision(): Promise<{ database: string; created: boolean; migrations: string[] }> {
    const report = await this.databases.provision();
    await this.keyring.ensureDataKey();
    return report;
  }

  async drop(): Promise<{ dropped: boolean }> {
    const tenant = RequestContextStore.requireTenant();
    this.keyring.forget(tenant);
    this.checkpointer.forget(tenant);
    return this.databases.drop();
  }
}
